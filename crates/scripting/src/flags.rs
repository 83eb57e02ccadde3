//! Script flags and the `#!lua` shebang line.

use lunakv_protocol::Reply;

/// The flags a script declares in its shebang (`#!lua flags=...`), plus
/// the legacy marker for scripts without a shebang.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScriptFlags(u8);

impl ScriptFlags {
    /// The script has no shebang: Redis 6 compatibility mode (its commands
    /// are checked one by one; no start-time gates).
    pub const EVAL_COMPAT: ScriptFlags = ScriptFlags(1);
    /// `no-writes`: the script may not write (and implies `allow-oom`).
    pub const NO_WRITES: ScriptFlags = ScriptFlags(2);
    /// `allow-oom`: the script may run, and write, above `maxmemory`.
    pub const ALLOW_OOM: ScriptFlags = ScriptFlags(4);
    /// `allow-stale`: the script may run on a stale replica.
    pub const ALLOW_STALE: ScriptFlags = ScriptFlags(8);
    /// `no-cluster`: the script refuses to run in cluster mode.
    pub const NO_CLUSTER: ScriptFlags = ScriptFlags(16);
    /// `allow-cross-slot-keys`: the script may touch keys of several slots.
    pub const ALLOW_CROSS_SLOT: ScriptFlags = ScriptFlags(32);

    /// The shebang names of the flags, as Redis spells them.
    pub const NAMES: &'static [(&'static str, ScriptFlags)] = &[
        ("no-writes", ScriptFlags::NO_WRITES),
        ("allow-oom", ScriptFlags::ALLOW_OOM),
        ("allow-stale", ScriptFlags::ALLOW_STALE),
        ("no-cluster", ScriptFlags::NO_CLUSTER),
        ("allow-cross-slot-keys", ScriptFlags::ALLOW_CROSS_SLOT),
    ];

    /// No flag at all (a `#!lua` shebang without `flags=`).
    pub const fn empty() -> ScriptFlags {
        ScriptFlags(0)
    }

    /// True if every flag of `other` is set.
    pub const fn contains(self, other: ScriptFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets of flags.
    pub const fn union(self, other: ScriptFlags) -> ScriptFlags {
        ScriptFlags(self.0 | other.0)
    }

    /// True for a legacy script (no shebang).
    pub const fn is_compat(self) -> bool {
        self.contains(ScriptFlags::EVAL_COMPAT)
    }

    /// The raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// True if the run must refuse writes: `*_RO` commands, or a shebang
    /// script with `no-writes` (Redis's `SCRIPT_READ_ONLY`).
    pub const fn run_read_only(self, ro_command: bool) -> bool {
        ro_command || (!self.is_compat() && self.contains(ScriptFlags::NO_WRITES))
    }

    /// How a shebang script changes the EVAL command's own flags, as
    /// Redis's `scriptFlagsToCmdFlags`: `None` for a legacy script (keep
    /// the command's flags), else `(write, deny_oom, allow_stale)` to use in
    /// place of the command's `write`, `denyoom` and `stale` flags (and the
    /// command loses `may-replicate`).
    pub const fn command_gates(self) -> Option<(bool, bool, bool)> {
        if self.is_compat() {
            return None;
        }
        let no_writes = self.contains(ScriptFlags::NO_WRITES);
        let deny_oom = !(self.contains(ScriptFlags::ALLOW_OOM) || no_writes);
        Some((
            !no_writes,
            deny_oom,
            self.contains(ScriptFlags::ALLOW_STALE),
        ))
    }

    /// The one start-time check that depends on nothing but the flags:
    /// a shebang script that may write cannot run through `EVAL_RO` /
    /// `EVALSHA_RO`. Redis makes it after the replica and disk-error checks
    /// and before the min-replicas and OOM ones.
    pub fn check_ro_command(self, ro_command: bool) -> Result<(), Reply> {
        if ro_command && !self.is_compat() && !self.contains(ScriptFlags::NO_WRITES) {
            return Err(Reply::err_static(
                "ERR Can not execute a script with write flag using *_ro command.",
            ));
        }
        Ok(())
    }
}

/// Parses the shebang of `body` as Redis's `evalExtractShebangFlags`:
/// returns the flags and the length of the shebang line (without its
/// newline, which stays in the compiled code to keep line numbers).
pub fn parse_shebang(body: &[u8]) -> Result<(ScriptFlags, usize), Reply> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags::EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err(Reply::err_static("ERR Invalid script shebang"));
    };
    let parts = match split_args(&body[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err(Reply::err_static("ERR Invalid engine in script shebang")),
    };
    if parts[0] != b"#!lua" {
        let mut msg = b"ERR Unexpected engine in script shebang: ".to_vec();
        msg.extend_from_slice(crate::convert::c_str(&parts[0]));
        return Err(Reply::Error(msg.into()));
    }
    let mut flags = ScriptFlags::empty();
    for part in &parts[1..] {
        if let Some(list) = part.strip_prefix(b"flags=") {
            if list.is_empty() {
                continue;
            }
            for name in list.split(|&c| c == b',') {
                let name = crate::convert::c_str(name);
                match ScriptFlags::NAMES
                    .iter()
                    .find(|(n, _)| n.as_bytes() == name)
                {
                    Some((_, f)) => flags = flags.union(*f),
                    None => {
                        let mut msg = b"ERR Unexpected flag in script shebang: ".to_vec();
                        msg.extend_from_slice(name);
                        return Err(Reply::Error(msg.into()));
                    }
                }
            }
        } else {
            let mut msg = b"ERR Unknown lua shebang option: ".to_vec();
            msg.extend_from_slice(crate::convert::c_str(part));
            return Err(Reply::Error(msg.into()));
        }
    }
    Ok((flags, end))
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits a line into arguments like Redis's `sdssplitargs`: blanks
/// separate, `"..."` understands `\n \r \t \b \a \\ \" \xHH`, `'...'`
/// understands `\'`; a closing quote must be followed by a blank.
/// `None` on unbalanced quotes.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    let is_space = |c: u8| matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c);
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex(line[i + 2]), hex(line[i + 3])) {
                        cur.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    c if is_space(c) => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        match parse_shebang(body.as_bytes()) {
            Err(Reply::Error(e)) => String::from_utf8_lossy(&e).into_owned(),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn shebang_flags() {
        assert_eq!(
            parse_shebang(b"return 1").ok(),
            Some((ScriptFlags::EVAL_COMPAT, 0))
        );
        assert_eq!(
            parse_shebang(b"#!lua\nreturn 1").ok(),
            Some((ScriptFlags::empty(), 5))
        );
        let (f, _) = parse_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").expect("valid");
        assert!(f.contains(ScriptFlags::NO_WRITES) && f.contains(ScriptFlags::ALLOW_OOM));
        assert!(!f.is_compat());
        let (f, _) = parse_shebang(b"#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\n")
            .expect("valid");
        assert!(f.contains(ScriptFlags::ALLOW_STALE.union(ScriptFlags::NO_CLUSTER)));
        assert_eq!(
            parse_shebang(b"#!lua flags=\nreturn 1").ok(),
            Some((ScriptFlags::empty(), 12))
        );
        assert_eq!(
            parse_shebang(b"#!lua \"flags=no-writes\"\n")
                .ok()
                .map(|x| x.0),
            Some(ScriptFlags::NO_WRITES)
        );
    }

    #[test]
    fn shebang_errors() {
        assert_eq!(err("#!lua"), "ERR Invalid script shebang");
        assert_eq!(
            err("#!lua2\nreturn 1"),
            "ERR Unexpected engine in script shebang: #!lua2"
        );
        assert_eq!(
            err("#!lua flags=no-writes,bad\n"),
            "ERR Unexpected flag in script shebang: bad"
        );
        assert_eq!(
            err("#!lua foo=bar\n"),
            "ERR Unknown lua shebang option: foo=bar"
        );
        assert_eq!(err("#!lua \"a\n"), "ERR Invalid engine in script shebang");
        assert_eq!(
            err("#!lua flags=no-writes,,allow-oom\n"),
            "ERR Unexpected flag in script shebang: "
        );
    }

    #[test]
    fn gates() {
        assert_eq!(ScriptFlags::EVAL_COMPAT.command_gates(), None);
        assert_eq!(
            ScriptFlags::empty().command_gates(),
            Some((true, true, false))
        );
        assert_eq!(
            ScriptFlags::NO_WRITES.command_gates(),
            Some((false, false, false))
        );
        assert!(ScriptFlags::empty().check_ro_command(true).is_err());
        assert!(ScriptFlags::NO_WRITES.check_ro_command(true).is_ok());
        assert!(ScriptFlags::EVAL_COMPAT.check_ro_command(true).is_ok());
        assert!(ScriptFlags::EVAL_COMPAT.run_read_only(true));
        assert!(!ScriptFlags::EVAL_COMPAT.run_read_only(false));
    }
}
