//! A small-block pool for the Lua VM's allocations.
//!
//! Lua allocates and frees small blocks at a high rate: every string a
//! script builds (`tostring(i)`, `..`, `string.sub`), every table and
//! closure, and the incremental collector frees them again in batches.
//! Through mlua's allocator callback each of those goes through the Rust
//! global allocator (with mlua's own size bookkeeping on top), which costs
//! several times what the VM spends creating the string.
//!
//! [`install`] gives a Lua state a private pool instead: blocks of up to
//! [`MAX_SMALL`] bytes come from per-size-class free lists (16-byte
//! classes) carved from one address range reserved for the state, so an
//! allocation or a free is a pointer push or pop. Larger blocks, and any
//! block allocated before the pool was installed, still go to the previous
//! allocator (mlua's); a block belongs to the pool exactly when its address
//! lies in the pool's range, so the two never mix up.
//!
//! The range is reserved with `mmap(MAP_NORESERVE)`: pages are only backed
//! by memory once touched, like any allocator's arena. Like Redis's Lua
//! heap, it is not part of `used_memory`; blocks freed by the collector are
//! reused by the same state and the range is released when the state
//! closes (SCRIPT FLUSH, FUNCTION FLUSH, shutdown). When the range is full,
//! new small blocks come from the previous allocator.
//!
//! The pool also enforces the state's memory limit
//! ([`set_limit`]), which mlua's allocator enforced before.

use std::ffi::c_void;
use std::ptr;

use mlua::{ffi, Lua};

/// Size classes are multiples of this (Lua's blocks need 8-byte
/// alignment; 16 keeps every class aligned like malloc's blocks).
const QUANTUM: usize = 16;
/// Number of size classes: blocks of 16, 32, ..., `MAX_SMALL` bytes.
const CLASSES: usize = 16;
/// Largest block the pool serves; larger ones go to the previous allocator.
pub const MAX_SMALL: usize = QUANTUM * CLASSES;
/// Address space reserved per Lua state (only touched pages use memory).
const RESERVE: usize = 1 << 30;

/// The pool of one Lua state: the `ud` of its allocator callback.
struct Pool {
    /// First address of the reserved range.
    base: usize,
    /// Bytes of the range handed out so far (blocks are carved from
    /// `base + top` when their class's free list is empty).
    top: usize,
    /// Free blocks of each class, linked through their first word.
    free: [*mut u8; CLASSES],
    /// The allocator the state had before (mlua's) and its `ud`.
    prev: ffi::lua_Alloc,
    prev_ud: *mut c_void,
    /// Bytes Lua has allocated (all blocks, pool or not).
    used: usize,
    /// Most bytes Lua may allocate (0: no limit).
    limit: usize,
}

/// The size class of a block of `n` bytes (1..=`MAX_SMALL`).
#[inline(always)]
fn class(n: usize) -> usize {
    (n - 1) / QUANTUM
}

impl Pool {
    /// Whether `p` was carved from the pool's range.
    #[inline(always)]
    fn owns(&self, p: *mut c_void) -> bool {
        (p as usize).wrapping_sub(self.base) < RESERVE
    }

    /// A new block of `n` (> 0) bytes, or null.
    #[inline(always)]
    unsafe fn get(&mut self, n: usize) -> *mut c_void {
        if n <= MAX_SMALL {
            let c = class(n);
            let head = self.free[c];
            if !head.is_null() {
                // SAFETY: a free block of this class holds the next free
                // block's address in its first word (see `put`).
                self.free[c] = unsafe { *(head as *mut *mut u8) };
                return head as *mut c_void;
            }
            let size = (c + 1) * QUANTUM;
            if RESERVE - self.top >= size {
                let p = self.base + self.top;
                self.top += size;
                return p as *mut c_void;
            }
        }
        // SAFETY: the previous allocator's contract: a fresh allocation.
        unsafe { (self.prev)(self.prev_ud, ptr::null_mut(), 0, n) }
    }

    /// Returns pool block `p` of `n` bytes to its class's free list.
    #[inline(always)]
    unsafe fn put(&mut self, p: *mut c_void, n: usize) {
        let c = class(n);
        // SAFETY: `p` is a pool block of at least 16 bytes, 16-aligned,
        // that Lua no longer uses.
        unsafe { *(p as *mut *mut u8) = self.free[c] };
        self.free[c] = p as *mut u8;
    }
}

/// The allocator callback (`lua_Alloc`) of a state with a pool.
unsafe extern "C" fn pool_alloc(
    ud: *mut c_void,
    p: *mut c_void,
    osize: usize,
    nsize: usize,
) -> *mut c_void {
    // SAFETY: `ud` is the `Pool` that `install` registered with this
    // callback; it lives until after the state is closed.
    let pool = unsafe { &mut *(ud as *mut Pool) };
    let old = if p.is_null() { 0 } else { osize };
    if nsize == 0 {
        if !p.is_null() {
            if pool.owns(p) {
                // SAFETY: a pool block of `osize` bytes (Lua passes the
                // size it asked for).
                unsafe { pool.put(p, osize) };
            } else {
                // SAFETY: a block of the previous allocator.
                unsafe { (pool.prev)(pool.prev_ud, p, osize, 0) };
            }
            pool.used = pool.used.saturating_sub(osize);
        }
        return ptr::null_mut();
    }
    if nsize > old && pool.limit != 0 && pool.used.saturating_add(nsize - old) > pool.limit {
        return ptr::null_mut();
    }
    let q = if p.is_null() {
        // SAFETY: a fresh block.
        unsafe { pool.get(nsize) }
    } else if pool.owns(p) {
        if nsize <= MAX_SMALL && class(nsize) == class(osize) {
            p
        } else {
            // SAFETY: moves a pool block to a block of the new size.
            unsafe {
                let q = pool.get(nsize);
                if q.is_null() {
                    return q;
                }
                ptr::copy_nonoverlapping(p as *const u8, q as *mut u8, osize.min(nsize));
                pool.put(p, osize);
                q
            }
        }
    } else {
        // SAFETY: a block of the previous allocator, resized by it.
        unsafe { (pool.prev)(pool.prev_ud, p, osize, nsize) }
    };
    if !q.is_null() {
        pool.used = pool.used - old + nsize;
    }
    q
}

/// Owns a state's [`Pool`] and its range; kept in the state's app data,
/// which mlua drops after `lua_close`, once Lua has freed every block.
struct PoolOwner(*mut Pool);

impl Drop for PoolOwner {
    fn drop(&mut self) {
        // SAFETY: the pool was leaked by `install` for this owner only; the
        // state using it is closed, so nothing points into the range.
        unsafe {
            let pool = Box::from_raw(self.0);
            munmap(pool.base as *mut c_void, RESERVE);
        }
    }
}

const PROT_READ: i32 = 1;
const PROT_WRITE: i32 = 2;
const MAP_PRIVATE: i32 = 2;
const MAP_ANONYMOUS: i32 = 0x20;
const MAP_NORESERVE: i32 = 0x4000;
const MAP_FAILED: *mut c_void = !0usize as *mut c_void;

extern "C" {
    fn mmap(addr: *mut c_void, len: usize, prot: i32, flags: i32, fd: i32, off: i64)
        -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> i32;
}

/// Gives `lua` a small-block pool (see the module docs). Returns `false`,
/// leaving the state as it was, when the address range cannot be reserved.
/// Call it once, right after creating the state.
pub fn install(lua: &Lua) -> bool {
    if !cfg!(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )) {
        return false;
    }
    // SAFETY: an anonymous private mapping of fresh address space.
    let base = unsafe {
        mmap(
            ptr::null_mut(),
            RESERVE,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == MAP_FAILED || base.is_null() {
        return false;
    }
    let mut installed = None;
    // SAFETY: reads the state's allocator and installs the pool's in its
    // place; blocks allocated so far stay with the previous allocator,
    // which the pool forwards them to. The GC counters are plain reads.
    let ran = unsafe {
        lua.exec_raw::<()>((), |l| {
            let mut prev_ud = ptr::null_mut();
            let prev = ffi::lua_getallocf(l, &mut prev_ud);
            let kb = ffi::lua_gc(l, ffi::LUA_GCCOUNT, 0).max(0) as usize;
            let b = ffi::lua_gc(l, ffi::LUA_GCCOUNTB, 0).max(0) as usize;
            let pool = Box::into_raw(Box::new(Pool {
                base: base as usize,
                top: 0,
                free: [ptr::null_mut(); CLASSES],
                prev,
                prev_ud,
                used: kb * 1024 + b,
                limit: 0,
            }));
            ffi::lua_setallocf(l, pool_alloc, pool as *mut c_void);
            installed = Some(PoolOwner(pool));
        })
    };
    match installed {
        Some(owner) => {
            lua.set_app_data(owner);
            true
        }
        None => {
            debug_assert!(ran.is_err());
            // SAFETY: the range was never handed to the state.
            unsafe { munmap(base, RESERVE) };
            false
        }
    }
}

/// The pool of `lua`, if [`install`] gave it one. (Read from the app data,
/// which needs no Lua allocation: this works when the state is out of
/// memory too.)
fn pool_of(lua: &Lua) -> Option<*mut Pool> {
    lua.app_data_ref::<PoolOwner>().map(|o| o.0)
}

/// Sets the most bytes `lua` may allocate (0: no limit); `false` when the
/// state has no pool (then mlua's own limit applies).
pub fn set_limit(lua: &Lua, bytes: usize) -> bool {
    match pool_of(lua) {
        Some(p) => {
            // SAFETY: the pool lives as long as the state; the allocator
            // callback is not running (the state is not).
            unsafe { (*p).limit = bytes };
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_tables_live_in_the_pool() {
        let lua = Lua::new();
        assert!(install(&lua));
        let n: i64 = lua
            .load(
                "local t, n = {}, 0
                 for i = 1, 20000 do t[i] = tostring(i) .. 'x' end
                 for i = 1, 20000, 7 do t[i] = nil end
                 collectgarbage()
                 for i = 1, 20000 do local s = t[i] if s then n = n + #s end end
                 local big = string.rep('y', 100000)
                 return n + #big",
            )
            .eval()
            .expect("eval");
        let mut want = 100000i64;
        for i in 1..=20000 {
            if (i - 1) % 7 != 0 {
                want += i.to_string().len() as i64 + 1;
            }
        }
        assert_eq!(n, want);
        let p = pool_of(&lua).expect("pool");
        // SAFETY: read-only peek at the pool while the state is idle.
        assert!(unsafe { (*p).top } > 0);
        // Growing and shrinking across classes and across the pool's
        // upper bound keeps the contents.
        let s: String = lua
            .load(
                "local t = {}
                 for i = 1, 300 do t[#t + 1] = i end
                 for i = 300, 1, -1 do t[i] = nil end
                 local parts = {}
                 for i = 1, 40 do parts[#parts + 1] = string.char(64 + i % 26) end
                 return table.concat(parts)",
            )
            .eval()
            .expect("eval");
        assert_eq!(s.len(), 40);
        drop(lua);
    }

    #[test]
    fn limit_is_a_memory_error() {
        let lua = Lua::new();
        assert!(install(&lua));
        assert!(set_limit(&lua, 4 << 20));
        let r = lua
            .load("local t = {} for i = 1, 1e7 do t[i] = 'x' .. i end return #t")
            .exec();
        assert!(matches!(r, Err(mlua::Error::MemoryError(_))), "{r:?}");
        assert!(set_limit(&lua, 0));
        let n: i64 = lua.load("collectgarbage() return 1").eval().expect("eval");
        assert_eq!(n, 1);
    }
}
