//! Giving memory back after a burst. libzmq queues a burst's messages with glibc's `malloc`; once
//! they are delivered the memory is free but glibc keeps it mapped, so a daemon that handled one
//! burst would sit at several times its idle size for good. The loop calls [`release_free_memory`]
//! once the bus has been quiet for a moment after a burst.

/// Returns free heap memory to the operating system (glibc's `malloc_trim`); a no-op elsewhere.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() {
    // SAFETY: `malloc_trim` takes no pointer from us and only releases memory glibc's allocator
    // holds as free; glibc documents it as safe to call at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Returns free heap memory to the operating system (glibc's `malloc_trim`); a no-op elsewhere.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}
