//! Micro-benchmarks of the wire protocol: the request parser and the reply
//! encoder. Run with `cargo bench -p lunakv-protocol` (add `-- --quick` for
//! a short run, or a filter such as `-- parse/`).

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use lunakv_protocol::{encode, ParseLimits, Parser, Reply};
use std::hint::black_box;

/// `n` multibulk `SET key:<i> <value>` requests back to back, as a
/// pipelining client sends them.
fn multibulk_sets(n: usize, value_len: usize) -> Vec<u8> {
    let value = vec![b'x'; value_len];
    let mut out = Vec::new();
    for i in 0..n {
        let key = format!("key:{i:012}");
        out.extend_from_slice(format!("*3\r\n$3\r\nSET\r\n${}\r\n", key.len()).as_bytes());
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(format!("\r\n${}\r\n", value.len()).as_bytes());
        out.extend_from_slice(&value);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Parses every request in `input` with a fresh parser; returns the count.
fn parse_all(input: BytesMut, limits: &ParseLimits) -> usize {
    let mut buf = input;
    let mut p = Parser::new();
    let mut n = 0;
    while let Ok(Some(req)) = p.next(&mut buf, limits) {
        n += req.len();
        black_box(&req);
    }
    n
}

fn bench_parse(c: &mut Criterion) {
    let limits = ParseLimits::default();
    let mut g = c.benchmark_group("parse");
    let cases: [(&str, Vec<u8>, u64); 4] = [
        ("multibulk_set_3B_x100", multibulk_sets(100, 3), 100),
        ("multibulk_set_1KiB_x100", multibulk_sets(100, 1024), 100),
        ("multibulk_set_64KiB_x1", multibulk_sets(1, 64 * 1024), 1),
        (
            "inline_set_x100",
            (0..100)
                .flat_map(|i| format!("SET key:{i:012} \"a b\\x41\"\r\n").into_bytes())
                .collect(),
            100,
        ),
    ];
    for (name, input, requests) in cases {
        g.throughput(Throughput::Elements(requests));
        g.bench_function(name, |b| {
            b.iter_batched(
                || BytesMut::from(&input[..]),
                |buf| parse_all(buf, &limits),
                BatchSize::SmallInput,
            )
        });
    }
    // A request that arrives a few bytes at a time: the parser must resume
    // where it stopped instead of re-scanning.
    let input = multibulk_sets(10, 100);
    g.throughput(Throughput::Elements(10));
    g.bench_function("multibulk_set_100B_x10_in_16B_reads", |b| {
        b.iter(|| {
            let mut p = Parser::new();
            let mut buf = BytesMut::with_capacity(input.len());
            let mut n = 0;
            for chunk in input.chunks(16) {
                buf.extend_from_slice(chunk);
                while let Ok(Some(req)) = p.next(&mut buf, &limits) {
                    n += req.len();
                }
            }
            black_box(n)
        })
    });
    g.finish();
}

fn bulks(n: usize, len: usize) -> Vec<Reply> {
    (0..n)
        .map(|i| Reply::Bulk(Bytes::from(format!("{i:0len$}"))))
        .collect()
}

fn bench_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    let cases: Vec<(&str, Reply, u8)> = vec![
        ("ok", Reply::ok(), 2),
        ("int", Reply::Int(1234567890123), 2),
        ("bulk_3B", Reply::Bulk(Bytes::from_static(b"xxx")), 2),
        ("bulk_1KiB", Reply::Bulk(Bytes::from(vec![b'x'; 1024])), 2),
        ("null", Reply::Null, 2),
        ("error", Reply::err_static("ERR syntax error"), 2),
        ("double_resp2", Reply::Double(std::f64::consts::PI), 2),
        ("double_resp3", Reply::Double(std::f64::consts::PI), 3),
        ("array_10_bulks", Reply::Array(bulks(10, 8)), 2),
        ("array_1000_bulks", Reply::Array(bulks(1000, 8)), 2),
        (
            "map_10_resp3",
            Reply::Map(
                bulks(10, 8)
                    .into_iter()
                    .zip((0..10).map(Reply::Int))
                    .collect(),
            ),
            3,
        ),
        (
            "map_10_resp2",
            Reply::Map(
                bulks(10, 8)
                    .into_iter()
                    .zip((0..10).map(Reply::Int))
                    .collect(),
            ),
            2,
        ),
    ];
    for (name, reply, proto) in cases {
        let mut out = Vec::with_capacity(64 * 1024);
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                encode(black_box(&reply), proto, &mut out);
                black_box(out.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_parse, bench_encode);
criterion_main!(benches);
