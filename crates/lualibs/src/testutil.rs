//! Helpers shared by the unit tests.

use mlua::Lua;

/// Evaluates `expr` inside `pcall` in a chunk named like Redis's scripts
/// (`user_script`) and renders the results exactly as the probes that were
/// run against redis-server 7.0.15: `tostring` of each value joined by
/// spaces, with string bytes outside printable ASCII (and `\`) as `\xNN`.
pub(crate) fn probe(lua: &Lua, expr: &str) -> String {
    let code = format!(
        "local function hx(s) if type(s) ~= 'string' then return tostring(s) end \
         local h = '' for i = 1, #s do local b = s:byte(i) \
         if b < 32 or b > 126 or b == 92 then h = h .. string.format('\\\\x%02x', b) \
         else h = h .. string.char(b) end end return h end \
         local r = {{pcall(function() return {expr} end)}} local o = {{}} \
         for i = 1, table.maxn(r) do o[#o+1] = hx(r[i]) end return table.concat(o, ' ')"
    );
    lua.load(&code)
        .set_name("@user_script")
        .eval::<mlua::LuaString>()
        .map(|s| String::from_utf8_lossy(&s.as_bytes()).into_owned())
        .unwrap_or_else(|e| format!("chunk error: {e}"))
}

/// Checks every `(expression, expected rendering)` pair with [`probe`].
pub(crate) fn check_all(lua: &Lua, cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (expr, want) in cases {
        let got = probe(lua, expr);
        if got != *want {
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
