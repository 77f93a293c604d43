//! A policy's settings, read with one atomic load and replaced whole.
//!
//! Readers get a plain reference: an `Acquire` load of a pointer (a `mov` on x86-64), no
//! reference count, no lock, no epoch. Replacing swaps the pointer; the replaced value is kept
//! (not freed) until the `Live` itself is dropped, since a reader may still hold it. Settings
//! change only when a configuration changes them (a reload that changes nothing swaps nothing),
//! so what is kept is one settings value, a few hundred bytes, per actual change.

use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, Ordering};

pub(crate) struct Live<T> {
    current: AtomicPtr<T>,
    /// Every value replaced so far, kept alive for readers that may still hold it.
    retired: Mutex<Vec<Box<T>>>,
}

// SAFETY: a `Live<T>` hands out `&T` across threads (needs `T: Sync`) and moves `T` values in
// from any thread and drops them on any thread (needs `T: Send`), as a `Mutex<T>` would.
unsafe impl<T: Send + Sync> Send for Live<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Live<T> {}

impl<T> Live<T> {
    pub(crate) fn new(value: T) -> Self {
        Self { current: AtomicPtr::new(Box::into_raw(Box::new(value))), retired: Mutex::default() }
    }

    /// The current value: one atomic load.
    #[inline(always)]
    pub(crate) fn get(&self) -> &T {
        // SAFETY: `current` always points at a live `Box<T>`: set from `Box::into_raw`, and a
        // replaced value is moved to `retired`, freed only when `self` is dropped, which the
        // returned borrow of `self` outlives.
        unsafe { &*self.current.load(Ordering::Acquire) }
    }

    /// Makes `value` current; readers that already hold the old one keep a valid reference.
    pub(crate) fn set(&self, value: T) {
        let new = Box::into_raw(Box::new(value));
        let old = self.current.swap(new, Ordering::AcqRel);
        // SAFETY: `old` came from `Box::into_raw` and was current until the swap; no one else
        // takes ownership of it.
        let old = unsafe { Box::from_raw(old) };
        self.retired.lock().unwrap_or_else(|p| p.into_inner()).push(old);
    }
}

impl<T> Drop for Live<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no reader is left; `current` came from `Box::into_raw`.
        drop(unsafe { Box::from_raw(*self.current.get_mut()) });
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Live<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Live;

    #[test]
    fn old_values_stay_readable_after_a_swap() {
        let live = Live::new(String::from("a"));
        let old = live.get();
        live.set(String::from("b"));
        assert_eq!((old.as_str(), live.get().as_str()), ("a", "b"));
    }
}
