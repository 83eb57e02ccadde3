//! The context a command handler runs in: the engine, the calling client,
//! who called, and helpers every family shares (typed lookups, argument
//! parsing, write signalling).

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::client::{Caller, Client};
use crate::db::Db;
use crate::dict::Key;
use crate::errors;
use crate::value::{Entry, OwnedEntry, Str, Value};
use crate::Engine;

/// A handler's view of the world for one command.
pub struct Ctx<'a> {
    pub eng: &'a mut Engine,
    pub client: &'a mut Client,
    pub caller: Caller,
}

/// Keyspace event classes (`notify-keyspace-events` letters).
pub mod notify {
    pub const KEYSPACE: u32 = 1 << 0; // K
    pub const KEYEVENT: u32 = 1 << 1; // E
    pub const GENERIC: u32 = 1 << 2; // g
    pub const STRING: u32 = 1 << 3; // $
    pub const LIST: u32 = 1 << 4; // l
    pub const SET: u32 = 1 << 5; // s
    pub const HASH: u32 = 1 << 6; // h
    pub const ZSET: u32 = 1 << 7; // z
    pub const EXPIRED: u32 = 1 << 8; // x
    pub const EVICTED: u32 = 1 << 9; // e
    pub const STREAM: u32 = 1 << 10; // t
    pub const KEY_MISS: u32 = 1 << 11; // m (not part of A)
    pub const MODULE: u32 = 1 << 13; // d
    pub const NEW: u32 = 1 << 14; // n (not part of A)
    /// `A`: every class but `m` and `n`.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

impl<'a> Ctx<'a> {
    /// The current command's time snapshot in Unix milliseconds (frozen for
    /// the whole of a script, as in Redis).
    pub fn now(&self) -> u64 {
        self.eng.now_ms
    }

    /// The `lru` field of a key created now: the LRU clock, or with an LFU
    /// `maxmemory-policy` the current minute and the initial counter.
    pub fn lru(&self) -> u32 {
        self.eng.evict.new_lru(self.eng.now_ms)
    }

    /// The client's selected database.
    pub fn db(&mut self) -> &mut Db {
        let i = self.client.db;
        &mut self.eng.dbs[i]
    }

    /// The client's protocol version (2 or 3); scripts set theirs with
    /// `redis.setresp`.
    pub fn resp(&self) -> u8 {
        self.client.resp
    }

    /// Looks up a live key for reading and touches its access clock.
    pub fn lookup(&mut self, key: &[u8]) -> Option<Entry<&mut Value>> {
        let now = self.now();
        let no_touch = self.client.no_touch;
        let db = self.client.db;
        let eng = &mut *self.eng;
        let e = eng.dbs[db].get_mut(key, now);
        match e {
            Some(mut e) => {
                if !no_touch {
                    eng.evict.touch(&mut e, now);
                }
                eng.stats.keyspace_hits += 1;
                Some(e)
            }
            None => {
                eng.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// Looks up a live key for writing (no hit/miss accounting).
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<Entry<&mut Value>> {
        let now = self.now();
        let db = self.client.db;
        let eng = &mut *self.eng;
        let mut e = eng.dbs[db].get_mut(key, now)?;
        eng.evict.touch(&mut e, now);
        Some(e)
    }

    /// Reads a string key: `Ok(None)` if missing, `Err(WRONGTYPE)` if the key
    /// holds another type.
    pub fn get_str(&mut self, key: &[u8]) -> Result<Option<&mut Str>, Reply> {
        match self.lookup(key) {
            None => Ok(None),
            Some(Entry {
                val: Value::Str(s), ..
            }) => Ok(Some(s)),
            #[allow(unreachable_patterns)]
            Some(_) => Err(errors::wrongtype()),
        }
    }

    /// Like [`Ctx::get_str`] for a write path.
    pub fn get_str_mut(&mut self, key: &[u8]) -> Result<Option<&mut Str>, Reply> {
        match self.lookup_write(key) {
            None => Ok(None),
            Some(Entry {
                val: Value::Str(s), ..
            }) => Ok(Some(s)),
            #[allow(unreachable_patterns)]
            Some(_) => Err(errors::wrongtype()),
        }
    }

    /// Stores a value (SET semantics: an existing TTL is cleared unless
    /// `keep_ttl`).
    pub fn set_value(&mut self, key: &[u8], val: Value, keep_ttl: bool) {
        let now = self.now();
        // With an LFU policy an overwritten key keeps its access counter,
        // as Redis's dbOverwrite (callers looked the key up, which counted
        // the access).
        let lru = if self.eng.evict.policy.is_lfu() {
            match self.db().get(key, now) {
                Some(e) => e.lru(),
                None => self.lru(),
            }
        } else {
            self.lru()
        };
        self.db().set(key, val, keep_ttl, now, lru);
    }

    /// Must be called after every change to `key` in the current database:
    /// counts the change for persistence (`dirty`), invalidates WATCHes on
    /// the key and emits the keyspace event `event` of class `class`.
    pub fn modified(&mut self, key: &[u8], class: u32, event: &str) {
        let db = self.client.db;
        self.eng.notify_new_keys(db);
        self.eng.signal_modified(db, key);
        // A key that clients block on may have become servable by any write
        // (a push, but also RENAME, MOVE, COPY, SORT STORE...); the parked
        // command is re-run and decides.
        self.eng.signal_ready_in(db, key);
        self.eng.notify_keyspace_event(class, event, key, db);
        self.eng.dirty += 1;
    }

    /// Publishes a keyspace event for a key of the current database, with
    /// none of [`Ctx::modified`]'s other effects (e.g. the `del` that
    /// follows the type's own event when a write emptied an aggregate).
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.client.db;
        self.eng.notify_keyspace_event(class, event, key, db);
    }

    /// Like [`Ctx::modified`] for a key in another database.
    pub fn modified_in(&mut self, db: usize, key: &[u8], class: u32, event: &str) {
        self.eng.notify_new_keys(db);
        self.eng.signal_modified(db, key);
        self.eng.signal_ready_in(db, key);
        self.eng.notify_keyspace_event(class, event, key, db);
        self.eng.dirty += 1;
    }

    /// Deletes a key from the current database; returns true if it existed.
    pub fn delete(&mut self, key: &[u8]) -> bool {
        let now = self.now();
        self.db().delete(key, now)
    }

    /// Removes and returns a live key's entry.
    pub fn take(&mut self, key: &[u8]) -> Option<(Key, OwnedEntry)> {
        let now = self.now();
        let db = self.db();
        db.get(key, now)?;
        db.remove(key)
    }

    /// Parses an integer argument (`ERR value is not an integer or out of
    /// range` otherwise).
    pub fn int_arg(&self, b: &[u8]) -> Result<i64, Reply> {
        lunakv_protocol::parse_i64(b).ok_or_else(errors::not_int)
    }

    /// Parses a float argument (`ERR value is not a valid float` otherwise).
    pub fn float_arg(&self, b: &[u8]) -> Result<f64, Reply> {
        lunakv_protocol::parse_f64(b).ok_or_else(errors::not_float)
    }

    /// True when running inside a script.
    pub fn in_script(&self) -> bool {
        self.caller == Caller::Script
    }
}

/// Case-insensitive comparison of an argument with an ASCII word.
pub fn eq_ic(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// The argument as text (lossy), for error messages.
pub fn lossy(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}
