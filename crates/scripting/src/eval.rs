//! EVAL, EVALSHA and SCRIPT: the script cache over one [`LuaVm`].
//!
//! Scripts are cached by the SHA1 (lowercase hex) of their body and
//! compiled once. Scripts that arrived through `SCRIPT LOAD` stay until
//! `SCRIPT FLUSH`; scripts only ever seen through `EVAL` sit in an LRU of
//! [`EVAL_LRU_CAPACITY`] entries (as in Redis 7.4) so that clients that
//! generate a new script per call cannot grow the cache without bound.
//! Loading an EVAL-cached script makes it permanent.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use bytes::Bytes;
use lunakv_protocol::{parse_i64, Reply};
use mlua::Function;

use crate::flags::{parse_shebang, ScriptFlags};
use crate::host::Host;
use crate::vm::{LuaVm, VmError};

/// How many EVAL-only scripts the cache keeps (Redis 7.4's value).
pub const EVAL_LRU_CAPACITY: usize = 500;

/// Per-script bookkeeping overhead counted in [`ScriptStats::scripts_memory`].
const SCRIPT_OVERHEAD: usize = 96;

/// The reply to EVALSHA of an unknown script.
pub fn noscript_error() -> Reply {
    Reply::err_static("NOSCRIPT No matching script. Please use EVAL.")
}

/// Splits EVAL's arguments after the script (`numkeys key... arg...`) into
/// keys and arguments, with Redis's errors.
pub fn parse_numkeys(args: &[Bytes]) -> Result<(&[Bytes], &[Bytes]), Reply> {
    let Some((n, rest)) = args.split_first() else {
        return Err(Reply::err_static(
            "ERR wrong number of arguments for 'eval' command",
        ));
    };
    let Some(n) = parse_i64(n) else {
        return Err(Reply::err_static(
            "ERR value is not an integer or out of range",
        ));
    };
    if n > rest.len() as i64 {
        return Err(Reply::err_static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if n < 0 {
        return Err(Reply::err_static("ERR Number of keys can't be negative"));
    }
    Ok(rest.split_at(n as usize))
}

/// The SHA1 of a script body, in lowercase hex, as Redis names scripts.
pub fn sha1_hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// A script's SHA1 as raw bytes: the cache key.
type Sha = [u8; 20];

/// Parses a 40-digit hex SHA1 (any case); `None` for anything else, which
/// can name no cached script.
fn parse_sha(hex: &[u8]) -> Option<Sha> {
    if hex.len() != 40 {
        return None;
    }
    /// Each byte's value as a hex digit, or 0xff.
    const NIBBLE: [u8; 256] = {
        let mut t = [0xffu8; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            t[b'a' as usize + i] = 10 + i as u8;
            t[b'A' as usize + i] = 10 + i as u8;
            i += 1;
        }
        t
    };
    let mut out = [0u8; 20];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (hi, lo) = (NIBBLE[pair[0] as usize], NIBBLE[pair[1] as usize]);
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 15);
    }
    // A valid digit is at most 15: any 0xff entry sets the high bits.
    (bad < 16).then_some(out)
}

/// The SHA1 of a script body, raw.
/// A fast 64-bit hash of a script body (the key of the body index).
fn body_hash(body: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x6c75_6e61_6b76).hash_one(body)
}

fn sha1_raw(body: &[u8]) -> Sha {
    sha1_smol::Sha1::from(body).digest().bytes()
}

/// Lowercase hex of a raw SHA1.
fn sha_hex(sha: &Sha) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(40);
    for b in sha {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Hashes a SHA1 key by its first eight bytes: they are already uniformly
/// distributed, so SipHash over the whole key buys nothing on this path.
#[derive(Default)]
struct ShaHasher(u64);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut head = [0u8; 8];
        let n = bytes.len().min(8);
        head[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(head);
    }

    fn write_usize(&mut self, _: usize) {}
}

/// Figures for INFO's memory and scripting sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptStats {
    /// `number_of_cached_scripts`.
    pub number_of_cached_scripts: usize,
    /// `used_memory_lua` (also `used_memory_vm_eval`): bytes held by the Lua VM.
    pub used_memory_lua: usize,
    /// `used_memory_scripts` (`used_memory_scripts_eval`): the cache's own memory.
    pub scripts_memory: usize,
    /// `evicted_scripts`: EVAL scripts dropped from the LRU since start.
    pub evicted_scripts: u64,
}

/// One cached script.
struct Script {
    func: Function,
    /// The SHA1 in lowercase hex (the name in error messages).
    name: Box<str>,
    body: Bytes,
    flags: ScriptFlags,
    /// Position in the EVAL LRU; `None` for scripts that were loaded.
    lru: Option<u64>,
}

/// The EVAL script engine: one Lua VM and the script cache.
pub struct ScriptEngine {
    vm: LuaVm,
    scripts: HashMap<Sha, Script, BuildHasherDefault<ShaHasher>>,
    /// A fast hash of each cached body -> its SHA1, checked against the
    /// cached body: EVAL of a cached text (and its command-flags lookup)
    /// costs a hash and a compare instead of a SHA1 of the whole text.
    by_body: HashMap<u64, Sha, BuildHasherDefault<ShaHasher>>,
    lru: BTreeMap<u64, Sha>,
    tick: u64,
    bodies_memory: usize,
    evicted: u64,
    lru_capacity: usize,
}

impl ScriptEngine {
    /// Creates the engine and its Lua VM. Fails only if the VM cannot be
    /// set up (out of memory).
    pub fn new() -> Result<ScriptEngine, VmError> {
        Ok(ScriptEngine {
            vm: LuaVm::new()?,
            scripts: HashMap::default(),
            by_body: HashMap::default(),
            lru: BTreeMap::new(),
            tick: 0,
            bodies_memory: 0,
            evicted: 0,
            lru_capacity: EVAL_LRU_CAPACITY,
        })
    }

    /// Changes how many EVAL-only scripts are kept (tests use small values).
    pub fn set_lru_capacity(&mut self, n: usize) {
        self.lru_capacity = n.max(1);
    }

    /// The underlying VM (memory limit, FUNCTION sharing the bindings...).
    pub fn vm(&self) -> &LuaVm {
        &self.vm
    }

    /// Runs `EVAL`/`EVAL_RO` (`is_sha` false) or `EVALSHA`/`EVALSHA_RO`
    /// (`is_sha` true) from the command's arguments after its name
    /// (`script|sha numkeys key... arg...`), checking everything in
    /// Redis's order: SHA length, numkeys, cache/compilation, start gates.
    pub fn eval_command(
        &mut self,
        host: &mut dyn Host,
        args: &[Bytes],
        is_sha: bool,
        read_only: bool,
    ) -> Reply {
        let Some((script, rest)) = args.split_first() else {
            let name = if is_sha { "evalsha" } else { "eval" };
            return Reply::err(format!(
                "ERR wrong number of arguments for '{name}' command"
            ));
        };
        if is_sha && script.len() != 40 {
            return noscript_error();
        }
        let (keys, argv) = match parse_numkeys(rest) {
            Ok(x) => x,
            Err(e) => return e,
        };
        if is_sha {
            self.evalsha(host, script, keys, argv, read_only)
        } else {
            self.eval(host, script, keys, argv, read_only)
        }
    }

    /// `EVAL body numkeys ...` with keys and arguments already split.
    /// `read_only` is true for `EVAL_RO`.
    pub fn eval(
        &mut self,
        host: &mut dyn Host,
        body: &[u8],
        keys: &[Bytes],
        argv: &[Bytes],
        read_only: bool,
    ) -> Reply {
        let sha = self.sha_of(body);
        if !self.touch(&sha) {
            if let Err(e) = self.create(&sha, body, true) {
                return e;
            }
        }
        self.run(host, &sha, keys, argv, read_only)
    }

    /// `EVALSHA sha numkeys ...`; an unknown SHA (any case) gives
    /// `NOSCRIPT No matching script. Please use EVAL.`
    pub fn evalsha(
        &mut self,
        host: &mut dyn Host,
        sha: &[u8],
        keys: &[Bytes],
        argv: &[Bytes],
        read_only: bool,
    ) -> Reply {
        let Some(sha) = parse_sha(sha) else {
            return noscript_error();
        };
        if !self.touch(&sha) {
            return noscript_error();
        }
        self.run(host, &sha, keys, argv, read_only)
    }

    /// `SCRIPT LOAD body`: compiles and caches the script for good and
    /// returns its SHA1, or the shebang / compilation error.
    pub fn load(&mut self, body: &[u8]) -> Result<String, Reply> {
        let sha = self.sha_of(body);
        if let Some(s) = self.scripts.get_mut(&sha) {
            if let Some(tick) = s.lru.take() {
                self.lru.remove(&tick);
            }
            return Ok(s.name.to_string());
        }
        self.create(&sha, body, false)?;
        Ok(sha_hex(&sha))
    }

    /// `SCRIPT EXISTS sha`: true if the script is cached (any case).
    pub fn exists(&self, sha: &[u8]) -> bool {
        parse_sha(sha).is_some_and(|sha| self.scripts.contains_key(&sha))
    }

    /// `SCRIPT FLUSH`: drops every script and starts a fresh Lua VM, as
    /// Redis does. If a new VM cannot be created the old one is kept (its
    /// cache is still emptied).
    pub fn flush(&mut self) {
        self.scripts.clear();
        self.by_body.clear();
        self.lru.clear();
        self.bodies_memory = 0;
        if let Ok(vm) = LuaVm::new() {
            self.vm = vm;
        }
    }

    /// The body of a cached script (to propagate EVALSHA as EVAL).
    pub fn body(&self, sha: &str) -> Option<Bytes> {
        self.scripts
            .get(&parse_sha(sha.as_bytes())?)
            .map(|s| s.body.clone())
    }

    /// The flags of the script an EVAL/EVALSHA is about to run, for the
    /// server's command gates before the command is executed (Redis's
    /// `evalGetCommandFlags`): `None` means "use EVAL's own flags" (legacy
    /// script, unknown SHA, or a shebang error that EVAL will report);
    /// `Some(flags)` is a shebang script's declaration, to turn into
    /// command flags with [`ScriptFlags::command_gates`].
    pub fn command_flags(&self, body_or_sha: &[u8], is_sha: bool) -> Option<ScriptFlags> {
        let flags = if is_sha {
            self.scripts.get(&parse_sha(body_or_sha)?)?.flags
        } else {
            match self.scripts.get(&self.sha_of(body_or_sha)) {
                Some(s) => s.flags,
                None => parse_shebang(body_or_sha).ok()?.0,
            }
        };
        (!flags.is_compat()).then_some(flags)
    }

    /// True if the error reply of the last EVAL/EVALSHA repeats an error
    /// that a command run by the script already returned, and so was
    /// already counted in INFO errorstats (Redis's
    /// `ERR_REPLY_FLAG_NO_STATS_UPDATE`); false for other replies.
    pub fn last_error_counted(&self) -> bool {
        self.vm.last_error_counted()
    }

    /// Figures for INFO.
    pub fn stats(&self) -> ScriptStats {
        ScriptStats {
            number_of_cached_scripts: self.scripts.len(),
            used_memory_lua: self.vm.used_memory(),
            scripts_memory: self.bodies_memory + self.scripts.len() * SCRIPT_OVERHEAD,
            evicted_scripts: self.evicted,
        }
    }

    /// The SHA1 of `body`: from the index when the text is cached (its
    /// stored body compared byte for byte), else computed.
    fn sha_of(&self, body: &[u8]) -> Sha {
        if let Some(sha) = self.by_body.get(&body_hash(body)) {
            if self.scripts.get(sha).is_some_and(|s| s.body[..] == *body) {
                return *sha;
            }
        }
        sha1_raw(body)
    }

    /// Marks a cached script as just used (for the EVAL cache's
    /// eviction order); false if no script has this SHA.
    fn touch(&mut self, sha: &Sha) -> bool {
        let Some(s) = self.scripts.get_mut(sha) else {
            return false;
        };
        if let Some(old) = s.lru {
            if let Some(key) = self.lru.remove(&old) {
                self.tick += 1;
                s.lru = Some(self.tick);
                self.lru.insert(self.tick, key);
            }
        }
        true
    }

    fn create(&mut self, sha: &Sha, body: &[u8], from_eval: bool) -> Result<(), Reply> {
        let (flags, shebang_len) = parse_shebang(body)?;
        let func = self.vm.compile(&body[shebang_len..]).map_err(|msg| {
            let text = format!("ERR Error compiling script (new function): {msg}");
            Reply::Error(Bytes::from(crate::convert::map_crlf(
                crate::convert::trim_crlf(text.as_bytes()),
            )))
        })?;
        let lru = if from_eval {
            while self.lru.len() >= self.lru_capacity {
                let Some((_, victim)) = self.lru.pop_first() else {
                    break;
                };
                if let Some(s) = self.scripts.remove(&victim) {
                    let h = body_hash(&s.body);
                    if self.by_body.get(&h) == Some(&victim) {
                        self.by_body.remove(&h);
                    }
                    self.bodies_memory -= s.body.len() + 40;
                    self.evicted += 1;
                }
            }
            self.tick += 1;
            self.lru.insert(self.tick, *sha);
            Some(self.tick)
        } else {
            None
        };
        self.bodies_memory += body.len() + 40;
        self.by_body.insert(body_hash(body), *sha);
        self.scripts.insert(
            *sha,
            Script {
                func,
                name: sha_hex(sha).into_boxed_str(),
                body: Bytes::copy_from_slice(body),
                flags,
                lru,
            },
        );
        Ok(())
    }

    fn run(
        &mut self,
        host: &mut dyn Host,
        sha: &Sha,
        keys: &[Bytes],
        argv: &[Bytes],
        read_only: bool,
    ) -> Reply {
        let Some(script) = self.scripts.get(sha) else {
            return noscript_error();
        };
        let flags = script.flags;
        if let Err(e) = host.before_run(flags, read_only) {
            return e;
        }
        let reply = self.vm.run(
            host,
            &script.func,
            &script.name,
            keys,
            argv,
            flags,
            read_only,
        );
        host.after_run();
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_index_gives_the_sha1_and_follows_the_cache() {
        let mut e = ScriptEngine::new().unwrap();
        e.set_lru_capacity(2);
        let bodies: [&[u8]; 4] = [b"return 1", b"return 2", b"return 3", b"return 1 "];
        for body in bodies {
            assert_eq!(e.sha_of(body), sha1_raw(body));
        }
        // Cached as EVAL does it (the LRU keeps two), and by SCRIPT LOAD.
        for body in &bodies[..3] {
            e.create(&sha1_raw(body), body, true).unwrap();
        }
        e.load(b"return 'kept'").unwrap();
        // "return 1" was evicted: its index entry went with it.
        assert!(!e.scripts.contains_key(&sha1_raw(b"return 1")));
        assert_eq!(e.by_body.len(), 3);
        for body in [
            &b"return 1"[..],
            b"return 2",
            b"return 3",
            b"return 1 ",
            b"return 'kept'",
        ] {
            assert_eq!(e.sha_of(body), sha1_raw(body));
        }
        // An index entry whose body differs (a hash collision) is not trusted.
        let h = body_hash(b"return 1");
        e.by_body.insert(h, sha1_raw(b"return 2"));
        assert_eq!(e.sha_of(b"return 1"), sha1_raw(b"return 1"));
        e.flush();
        assert!(e.by_body.is_empty());
    }

    #[test]
    fn sha_parsing_takes_any_case_and_nothing_else() {
        let body = b"return 1";
        let raw = sha1_raw(body);
        let hex = sha_hex(&raw);
        assert_eq!(parse_sha(hex.as_bytes()), Some(raw));
        assert_eq!(parse_sha(hex.to_ascii_uppercase().as_bytes()), Some(raw));
        for i in 0..40 {
            for bad in [b'g', b'G', b' ', b'/', b':', b'@', b'`', 0xff, 0] {
                let mut h = hex.clone().into_bytes();
                h[i] = bad;
                assert_eq!(parse_sha(&h), None, "{i} {bad}");
            }
        }
        assert_eq!(parse_sha(&hex.as_bytes()[..39]), None);
        let every: Vec<u8> = (0..40).map(|i| b"0123456789abcdefABCDEF"[i % 22]).collect();
        let back = sha_hex(&parse_sha(&every).unwrap());
        assert_eq!(back.as_bytes(), every.to_ascii_lowercase().as_slice());
    }
}
