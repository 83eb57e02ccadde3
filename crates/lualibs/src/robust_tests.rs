//! Hostile-input tests: every library must answer any input with a value or
//! a Lua error, never a panic, an abort or a Rust stack overflow. The deep
//! nesting cases run on a thread with a deliberately small stack to prove
//! that nothing recurses per nesting level.

use mlua::Lua;

use crate::testutil::probe;

fn lua() -> Lua {
    let lua = Lua::new();
    crate::register_all(&lua).unwrap();
    lua
}

/// Runs `f` on a thread with a 256 KiB stack.
fn small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn deep_nesting_uses_no_rust_stack() {
    small_stack(|| {
        let lua = lua();
        let cases: &[(&str, &str)] = &[
            (
                "cjson.decode(string.rep('[', 1000000))",
                "false user_script:1: Found too many nested data structures (1001) at character 1001",
            ),
            (
                "cjson.new().decode(string.rep('{\"a\":', 1000000))",
                "false user_script:1: Found too many nested data structures (1001) at character 5001",
            ),
            (
                "(function() local c = cjson.new() c.decode_max_depth(2^31-1) \
                 return c.decode(string.rep('[', 1000000)) end)()",
                "false user_script:1: Found too many nested data structures (7999) at character 7999",
            ),
            (
                "(function() local c = cjson.new() c.encode_max_depth(2^31-1) \
                 local t = {} local cur = t for i = 1, 100000 do cur[1] = {} cur = cur[1] end \
                 return c.encode(t) end)()",
                "false user_script:1: Cannot serialise, excessive nesting (7998)",
            ),
            (
                "(function() local c = cjson.new() c.encode_max_depth(2^31-1) \
                 local t = {} local cur = t for i = 1, 100000 do cur.k = {} cur = cur.k end \
                 return c.encode(t) end)()",
                "false user_script:1: Cannot serialise, excessive nesting (4000)",
            ),
            (
                "cmsgpack.unpack(string.rep('\\145', 1000000))",
                "false user_script:1: stack overflow (in function mp_decode_to_lua_array)",
            ),
            (
                "cmsgpack.unpack(string.rep('\\129\\1', 1000000))",
                "false user_script:1: stack overflow (too many return values at once; \
                 use unpack_one or unpack_limit instead.)",
            ),
            (
                "(function() local t = {} local cur = t for i = 1, 100000 do cur[1] = {} \
                 cur = cur[1] end return #cmsgpack.pack(t) end)()",
                "true 17",
            ),
        ];
        for (expr, want) in cases {
            assert_eq!(probe(&lua, expr), *want, "{expr}");
        }
    });
}

/// Deep maps with string keys keep one table and one key per level alive
/// while decoding; this must still reach the C limits, not mlua's.
#[test]
fn deep_msgpack_maps_reach_the_c_limit() {
    let lua = lua();
    crate::testutil::check_all(
        &lua,
        &[
            (
                r#"type(cmsgpack.unpack(string.rep("\129\161a", 3990) .. "\1"))"#,
                r#"true table"#,
            ),
            (
                r#"cmsgpack.unpack(string.rep("\129\161a", 4000) .. "\1")"#,
                r#"false user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"#,
            ),
            (
                r#"type(cmsgpack.unpack(string.rep("\129\145", 2660) .. "\1"))"#,
                r#"false user_script:1: Missing bytes in input."#,
            ),
        ],
    );
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    let lua = lua();
    for expr in [
        "cmsgpack.unpack('\\221\\255\\255\\255\\255')",
        "cmsgpack.unpack('\\223\\255\\255\\255\\255\\1')",
        "cmsgpack.unpack('\\219\\255\\255\\255\\255')",
    ] {
        assert_eq!(
            probe(&lua, expr),
            "false user_script:1: Missing bytes in input.",
            "{expr}"
        );
    }
    assert_eq!(
        probe(&lua, "struct.unpack('c2147483647', 'x')"),
        "false user_script:1: bad argument #2 to 'unpack' (data string too short)"
    );
    assert_eq!(
        probe(&lua, "struct.pack('c2147483647', 'x')"),
        "false user_script:1: bad argument #3 to 'pack' (string too short)"
    );
}

/// A small xorshift generator, so the fuzz cases are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, alphabet: &[u8], max_len: usize) -> Vec<u8> {
        let len = (self.next() as usize) % (max_len + 1);
        (0..len)
            .map(|_| alphabet[(self.next() as usize) % alphabet.len()])
            .collect()
    }
}

#[test]
fn fuzz_never_panics() {
    let lua = lua();
    // Calls `f(...)` under pcall; an error must be a string. When asked,
    // whatever was decoded is encoded again by both serialisers.
    let call: mlua::Function = lua
        .load(
            "return function(roundtrip, f, ...) local r = {pcall(f, ...)} \
             if not r[1] and type(r[2]) ~= 'string' then error('non-string error') end \
             if r[1] and roundtrip then pcall(cjson.encode, r[2]) pcall(cmsgpack.pack, r[2]) end \
             return r[1] end",
        )
        .eval()
        .unwrap();
    let g = lua.globals();
    let cjson: mlua::Table = g.get("cjson").unwrap();
    let cmsgpack: mlua::Table = g.get("cmsgpack").unwrap();
    let structt: mlua::Table = g.get("struct").unwrap();
    let decode: mlua::Function = cjson.get("decode").unwrap();
    let encode: mlua::Function = cjson.get("encode").unwrap();
    let unpack: mlua::Function = cmsgpack.get("unpack").unwrap();
    let pack: mlua::Function = cmsgpack.get("pack").unwrap();
    let s_unpack: mlua::Function = structt.get("unpack").unwrap();
    let s_pack: mlua::Function = structt.get("pack").unwrap();
    let s_size: mlua::Function = structt.get("size").unwrap();
    let json_alpha = b"[]{}:,\"\\u0123456789abcdefABCDEF+-.eExXpPnNiItrsl \t\n\x00\xff/";
    let all: Vec<u8> = (0..=255).collect();
    let fmt_alpha = b"<>!=xbBhHlLTiIcsfd0123456789 ";
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..4000 {
        let j = lua.create_string(rng.bytes(json_alpha, 40)).unwrap();
        let _: bool = call.call((true, &decode, j)).unwrap();
        let m = lua.create_string(rng.bytes(&all, 40)).unwrap();
        let _: bool = call.call((true, &unpack, m.clone())).unwrap();
        let f = lua.create_string(rng.bytes(fmt_alpha, 12)).unwrap();
        let off = (rng.next() % 50) as i64 - 5;
        let _: bool = call
            .call((false, &s_unpack, f.clone(), m.clone(), off))
            .unwrap();
        let _: bool = call.call((false, &s_size, f.clone())).unwrap();
        let _: bool = call
            .call((false, &s_pack, f, 1.5, "abc", -7, 1e300, "x"))
            .unwrap();
    }
    // Round trips through both serialisers of decoded JSON.
    for text in [
        r#"{"a":[1,2,{"b":null}],"c":"\u00e9"}"#,
        "[[[[]]]]",
        r#"{"":{"":{}}}"#,
    ] {
        let v: mlua::Value = decode.call(text).unwrap();
        let _: mlua::Value = encode.call(v.clone()).unwrap();
        let packed: mlua::Value = pack.call(v).unwrap();
        let _: mlua::MultiValue = unpack.call(packed).unwrap();
    }
}

/// Checks `expression` / `redis-server result` line pairs (rendered like
/// [`probe`]) produced by running random expressions on a real redis-server
/// 7.0.15 (after `SCRIPT FLUSH`, in order).
fn differential(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    let lua = lua();
    // Table addresses differ between processes.
    let norm = |s: &str| {
        let mut out = String::new();
        let mut rest = s;
        while let Some(p) = rest.find("table: 0x") {
            out.push_str(&rest[..p + 9]);
            rest = rest[p + 9..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
        }
        out + rest
    };
    let mut failures = Vec::new();
    for pair in lines.chunks(2) {
        let [expr, want] = pair else { continue };
        let got = probe(&lua, expr);
        if norm(&got) != norm(want) {
            failures.push(format!("{expr}\n   got: {got}\n  want: {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// 1000 random expressions over the four libraries (JSON and MessagePack
/// fragments, struct formats, nested Lua tables, bit operations on edge
/// numbers) with the results redis-server 7.0.15 gave.
#[test]
fn differential_against_redis() {
    differential(include_str!("../testdata/redis-7.0.15-random.txt"));
}

/// The same check on a file given by `LUALIBS_DIFF_CASES`, for larger runs:
/// `LUALIBS_DIFF_CASES=/path cargo test -p lunakv-lualibs -- --ignored`.
#[test]
#[ignore]
fn differential_against_redis_file() {
    let Ok(path) = std::env::var("LUALIBS_DIFF_CASES") else {
        return;
    };
    let text = std::fs::read(path).unwrap();
    differential(&String::from_utf8_lossy(&text));
}
