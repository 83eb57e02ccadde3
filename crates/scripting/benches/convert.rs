//! Micro-benchmarks of the Lua <-> reply conversion that every
//! `redis.call` and every script return goes through
//! ([`lunakv_scripting::convert`]). Run with
//! `cargo bench -p lunakv-scripting` (add `-- --quick` for a short run).

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use lunakv_protocol::Reply;
use lunakv_scripting::convert::{lua_to_reply, reply_to_lua};
use mlua::{Function, Lua, Value};
use std::hint::black_box;

fn bulks(n: usize) -> Vec<Reply> {
    (0..n)
        .map(|i| Reply::Bulk(Bytes::from(format!("member:{i}"))))
        .collect()
}

/// Replies as commands give them to `redis.call`.
fn replies() -> Vec<(&'static str, Reply, bool)> {
    vec![
        ("status_ok", Reply::ok(), false),
        ("int", Reply::Int(42), false),
        ("bulk_3B", Reply::Bulk(Bytes::from_static(b"xxx")), false),
        (
            "bulk_1KiB",
            Reply::Bulk(Bytes::from(vec![b'x'; 1024])),
            false,
        ),
        ("null", Reply::Null, false),
        ("error", Reply::err_static("ERR syntax error"), false),
        ("array_10_bulks", Reply::Array(bulks(10)), false),
        ("array_100_bulks", Reply::Array(bulks(100)), false),
        (
            "map_10_resp3",
            Reply::Map(bulks(10).into_iter().zip((0..10).map(Reply::Int)).collect()),
            true,
        ),
        ("double_resp3", Reply::Double(1.5), true),
    ]
}

fn bench_reply_to_lua(c: &mut Criterion) {
    let lua = Lua::new();
    let mut g = c.benchmark_group("reply_to_lua");
    for (name, reply, resp3) in replies() {
        g.bench_function(name, |b| {
            b.iter(|| {
                let v = reply_to_lua(&lua, black_box(&reply), resp3);
                black_box(v.is_ok())
            })
        });
    }
    g.finish();
}

/// Lua values as scripts return them, built by Lua code.
const RETURNS: &[(&str, &str)] = &[
    ("number", "return 42"),
    ("float_truncated", "return 3.75"),
    ("string_3B", "return 'xxx'"),
    ("nil", "return nil"),
    ("boolean", "return true"),
    ("status_table", "return {ok = 'OK'}"),
    ("error_table", "return {err = 'ERR something'}"),
    (
        "array_10_strings",
        "local t = {} for i = 1, 10 do t[i] = 'member:' .. i end return t",
    ),
    (
        "array_100_mixed",
        "local t = {} for i = 1, 100 do t[i] = (i % 2 == 0) and i or ('m' .. i) end return t",
    ),
    (
        "nested_3x3",
        "return {{1, 2, 3}, {'a', 'b', 'c'}, {{1}, {2}, {3}}}",
    ),
    (
        "map_10_resp3",
        "local t = {} for i = 1, 10 do t['f' .. i] = i end return {map = t}",
    ),
];

fn bench_lua_to_reply(c: &mut Criterion) {
    let lua = Lua::new();
    let next: Function = match lua.globals().get("next") {
        Ok(f) => f,
        Err(e) => panic!("Lua has no next: {e}"),
    };
    let mut g = c.benchmark_group("lua_to_reply");
    for (name, code) in RETURNS {
        let value: Value = match lua.load(*code).eval() {
            Ok(v) => v,
            Err(e) => panic!("{name}: {e}"),
        };
        let resp3 = name.ends_with("resp3");
        g.bench_function(*name, |b| {
            b.iter(|| black_box(lua_to_reply(value.clone(), resp3, &next)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_reply_to_lua, bench_lua_to_reply);
criterion_main!(benches);
