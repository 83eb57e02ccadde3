//! One numbered database: the key → entry table, lazy and active expiry.

use crate::dict::{Dict, Key};
use crate::value::{Entry, OwnedEntry, Value};

/// A database (`SELECT n`).
#[derive(Default)]
pub struct Db {
    pub dict: Dict<Value>,
    /// Number of keys that have an expiry (INFO keyspace `expires=`).
    pub expires: usize,
    /// Keys removed because they expired (INFO `expired_keys`).
    pub stat_expired: u64,
    /// Where the active expiry cycle continues its walk.
    pub expire_cursor: u64,
    /// Keys deleted by lazy or active expiry since the engine last looked;
    /// the engine turns them into WATCH invalidations and keyspace events.
    pub expired_log: Vec<Key>,
    /// True when someone wants `expired_log` filled.
    pub log_expired: bool,
    /// Keys deleted by expiry, for propagation as DEL (filled only while
    /// `prop_expired` is set by the replication module).
    pub expired_prop: Vec<Key>,
    pub prop_expired: bool,
    /// Set during CLIENT PAUSE: expired keys read as missing but are not
    /// deleted (Redis's expireIfNeeded while clients are paused).
    pub hold_expired: bool,
    /// Keys created since the engine last looked, for the `new` keyspace
    /// event (filled only while `track_new` is set, i.e. when
    /// `notify-keyspace-events` has `n`).
    pub new_keys: Vec<Key>,
    pub track_new: bool,
}

impl Db {
    pub fn new() -> Db {
        Db {
            log_expired: true,
            ..Db::default()
        }
    }

    /// Number of keys, including expired ones not yet reclaimed.
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    /// Deletes `key` after a lookup found it expired (unless expiry is
    /// held by CLIENT PAUSE).
    fn expire_found(&mut self, key: &[u8]) {
        if !self.hold_expired {
            self.remove_expired(key);
        }
    }

    fn remove_expired(&mut self, key: &[u8]) {
        if let Some((k, _, _, exp)) = self.dict.remove_full(key) {
            if exp != 0 {
                self.expires -= 1;
            }
            self.stat_expired += 1;
            if self.prop_expired {
                self.expired_prop.push(k.clone());
            }
            if self.log_expired {
                self.expired_log.push(k);
            }
        }
    }

    /// Looks a key up for reading, deleting it first if it has expired.
    /// One hash and one probe of the table; a key without a TTL costs one
    /// flag test.
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<Entry<&Value>> {
        let e = self.dict.entry(key)?.map(|v| v as *const Value);
        let exp = e.expire();
        if exp != 0 && exp <= now {
            self.expire_found(key);
            return None;
        }
        // SAFETY: the node is live and the dict untouched since the lookup
        // on this path; the entry borrows `self` (the borrow checker cannot
        // see that the two paths are exclusive).
        Some(unsafe { e.assume_ref() })
    }

    /// Looks a key up for writing, deleting it first if it has expired.
    /// One hash and one probe of the table.
    pub fn get_mut(&mut self, key: &[u8], now: u64) -> Option<Entry<&mut Value>> {
        let e = self.dict.entry_mut(key)?.map(|v| v as *mut Value);
        let exp = e.expire();
        if exp != 0 && exp <= now {
            self.expire_found(key);
            return None;
        }
        // SAFETY: as in `get`; the entry borrows `self` mutably.
        Some(unsafe { e.assume_mut() })
    }

    /// True if the key exists and has not expired.
    pub fn contains(&mut self, key: &[u8], now: u64) -> bool {
        self.get(key, now).is_some()
    }

    /// Stores `val` under `key`. With `keep_ttl` an existing expiry stays,
    /// otherwise it is removed (SET's default).
    pub fn set(&mut self, key: &[u8], val: Value, keep_ttl: bool, now: u64, lru: u32) {
        match self.get_mut(key, now) {
            Some(mut e) => {
                *e.val = val;
                e.set_lru(lru);
                if !keep_ttl && e.expire() != 0 {
                    e.set_expire_in_place(0);
                    self.expires -= 1;
                }
            }
            None => {
                if self.hold_expired && self.dict.get(key).is_some() {
                    self.remove_expired(key);
                }
                if self.track_new {
                    self.new_keys.push(key.into());
                }
                self.dict.insert_new_full(key, val, lru, 0);
            }
        }
    }

    /// Adds a key known to be absent (after a lookup returned `None`).
    pub fn add(&mut self, key: &[u8], val: Value, lru: u32) {
        if self.hold_expired && self.dict.get(key).is_some() {
            self.remove_expired(key);
        }
        if self.track_new {
            self.new_keys.push(key.into());
        }
        self.dict.insert_new_full(key, val, lru, 0);
    }

    /// Inserts a whole entry (RENAME, MOVE, COPY, SWAPDB), replacing any
    /// existing one.
    pub fn insert_entry(&mut self, key: Key, e: OwnedEntry) {
        if self.track_new {
            // Redis re-adds the target of RENAME / MOVE / COPY / RESTORE
            // with dbAdd, which announces it as new.
            self.new_keys.push(key.clone());
        }
        if let Some((_, exp)) = self.dict.remove_value_expire(&key) {
            if exp != 0 {
                self.expires -= 1;
            }
        }
        if e.expire != 0 {
            self.expires += 1;
        }
        self.dict.insert_new_full(&key, e.val, e.lru, e.expire);
    }

    /// Removes a key (expired or not); returns its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<(Key, OwnedEntry)> {
        let (k, val, lru, expire) = self.dict.remove_full(key)?;
        if expire != 0 {
            self.expires -= 1;
        }
        Some((k, OwnedEntry { val, expire, lru }))
    }

    /// Removes a live key; returns true if it existed and had not expired.
    pub fn delete(&mut self, key: &[u8], now: u64) -> bool {
        // One hash lookup: remove first, then account for an expired entry
        // exactly as lazy expiry would have.
        let Some((_, exp)) = self.dict.remove_value_expire(key) else {
            return false;
        };
        if exp != 0 {
            self.expires -= 1;
        }
        if exp != 0 && exp <= now {
            self.stat_expired += 1;
            if self.prop_expired {
                self.expired_prop.push(key.into());
            }
            if self.log_expired {
                self.expired_log.push(key.into());
            }
            return false;
        }
        true
    }

    /// Sets or clears (`at == 0`) the expiry of an existing key (expired
    /// or not), keeping the `expires` count right. Giving a TTL to a key
    /// that never had one grows its node by 8 bytes. Returns false if the
    /// key is absent.
    pub fn set_expire(&mut self, key: &[u8], at: u64) -> bool {
        let Some(before) = self.dict.set_expire(key, at) else {
            return false;
        };
        match (before != 0, at != 0) {
            (false, true) => self.expires += 1,
            (true, false) => self.expires -= 1,
            _ => {}
        }
        true
    }

    /// Empties the database.
    pub fn clear(&mut self) {
        self.dict.clear();
        self.expires = 0;
        self.expire_cursor = 0;
    }

    /// One slice of the active expiry cycle: walks up to `buckets` buckets
    /// from the saved cursor and deletes the expired keys found there.
    /// Returns the number of keys reclaimed.
    pub fn active_expire(&mut self, now: u64, buckets: usize) -> usize {
        if self.expires == 0 {
            // Nothing can expire: the walk is complete.
            self.expire_cursor = 0;
            return 0;
        }
        let mut removed = Vec::new();
        let mut cursor = self.expire_cursor;
        for _ in 0..buckets {
            cursor = self.dict.scan_remove(
                cursor,
                |_, e| {
                    let exp = e.expire();
                    exp != 0 && exp <= now
                },
                &mut removed,
            );
            if cursor == 0 {
                break;
            }
        }
        self.expire_cursor = cursor;
        let n = removed.len();
        for (k, _) in removed {
            self.expires -= 1;
            self.stat_expired += 1;
            if self.prop_expired {
                self.expired_prop.push(k.clone());
            }
            if self.log_expired {
                self.expired_log.push(k);
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Str;

    fn val() -> Value {
        Value::Str(Str::from_bytes(b"v"))
    }

    fn filled(now: u64) -> Db {
        let mut db = Db::new();
        for i in 0..3000u64 {
            let k = format!("k:{i}");
            db.add(k.as_bytes(), val(), 0);
            match i % 3 {
                // Expired long ago, and just now.
                0 => assert!(db.set_expire(k.as_bytes(), if i % 2 == 0 { 1 } else { now })),
                1 => assert!(db.set_expire(k.as_bytes(), now + 100_000)),
                _ => {}
            }
        }
        db
    }

    #[test]
    fn active_expire_reclaims_keys_nobody_reads() {
        let now = 1_000_000;
        let mut db = filled(now);
        assert_eq!(db.expires, 2000);
        let mut passes = 0;
        let mut total = 0;
        loop {
            total += db.active_expire(now, 20);
            passes += 1;
            if db.expire_cursor == 0 {
                break;
            }
            assert!(passes < 100_000, "active expiry never finishes a pass");
        }
        assert_eq!(total, 1000);
        assert_eq!(db.len(), 2000);
        assert_eq!(db.expires, 1000);
        assert_eq!(db.stat_expired, 1000);
        assert_eq!(db.expired_log.len(), 1000);
        assert!(db
            .dict
            .iter_entries()
            .all(|(_, e)| e.expire() == 0 || e.expire() > now));
        // A second pass finds nothing; later, the rest expires too.
        while db.active_expire(now, 1000) > 0 || db.expire_cursor != 0 {}
        assert_eq!(db.len(), 2000);
        loop {
            db.active_expire(now + 100_000, 20);
            if db.expire_cursor == 0 {
                break;
            }
        }
        assert_eq!(db.len(), 1000);
        assert_eq!(db.expires, 0);
        assert_eq!(db.active_expire(now + 100_000, 20), 0);
    }

    #[test]
    fn active_expire_works_while_rehashing() {
        let now = 1_000_000;
        let mut db = Db::new();
        for i in 0..1024u64 {
            let k = format!("k:{i}");
            db.add(k.as_bytes(), val(), 0);
            db.set_expire(k.as_bytes(), 1);
        }
        // The next insert starts a resize; expire while it is in progress.
        db.add(b"grow", val(), 0);
        assert!(db.dict.is_rehashing());
        loop {
            db.active_expire(now, 5);
            if db.expire_cursor == 0 {
                break;
            }
        }
        assert_eq!(db.len(), 1);
        assert_eq!(db.expires, 0);
    }

    #[test]
    fn lookups_hide_expired_keys_and_reclaim_them_unless_held() {
        let mut db = Db::new();
        db.add(b"a", val(), 0);
        db.add(b"b", val(), 0);
        assert!(db.set_expire(b"a", 10));
        assert!(db.set_expire(b"b", 10));
        assert!(db.get(b"a", 9).is_some());
        assert!(db.get_mut(b"a", 9).is_some());
        db.hold_expired = true;
        assert!(db.get(b"a", 10).is_none());
        assert!(db.get_mut(b"b", 10).is_none());
        assert_eq!((db.len(), db.expires, db.stat_expired), (2, 2, 0));
        db.hold_expired = false;
        assert!(db.get(b"a", 10).is_none());
        assert!(db.get_mut(b"b", 10).is_none());
        assert_eq!((db.len(), db.expires, db.stat_expired), (0, 0, 2));
        assert_eq!(
            db.expired_log,
            vec![Key::from(&b"a"[..]), Key::from(&b"b"[..])]
        );
    }

    #[test]
    fn expiry_bookkeeping_of_set_insert_remove() {
        let mut db = Db::new();
        db.add(b"a", val(), 0);
        assert!(db.set_expire(b"a", 50));
        assert!(!db.set_expire(b"nokey", 50));
        assert_eq!(db.expires, 1);
        db.set(b"a", val(), true, 10, 0);
        assert_eq!(db.expires, 1);
        db.set(b"a", val(), false, 10, 0);
        assert_eq!(db.expires, 0);
        db.insert_entry(
            b"b"[..].into(),
            OwnedEntry {
                val: val(),
                expire: 99,
                lru: 0,
            },
        );
        db.insert_entry(
            b"b"[..].into(),
            OwnedEntry {
                val: val(),
                expire: 98,
                lru: 0,
            },
        );
        assert_eq!(db.expires, 1);
        assert!(db.get(b"b", 97).is_some());
        assert!(db.get(b"b", 98).is_none());
        assert_eq!(db.expires, 0);
        assert_eq!(db.stat_expired, 1);
        assert!(!db.delete(b"b", 1));
        assert!(db.delete(b"a", 1));
        assert!(db.is_empty());
    }
}
