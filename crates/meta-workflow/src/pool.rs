//! A small thread pool for per-project work: items are started in order, results come back to
//! the calling thread as they finish, and the caller can stop new items from starting.

use std::sync::Mutex;
use std::sync::mpsc;

/// Where the pool stands: the next item to start, and whether starting has stopped.
struct Dispatch {
    next: usize,
    stopped: bool,
}

/// Runs `work` on `items` with up to `jobs` threads, starting items in their order. `done` runs
/// on the calling thread for each finished item, in finishing order. When `stop_after` says so
/// of a result, no further item starts (it is asked on the worker, so the stop takes effect at
/// once); those running finish and are reported. Returns the number of items started: exactly
/// the items `0..n` ran.
pub(crate) fn run<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(usize, &T) -> R + Sync,
    stop_after: impl Fn(&R) -> bool + Sync,
    mut done: impl FnMut(usize, R),
) -> usize {
    let dispatch = Mutex::new(Dispatch {
        next: 0,
        stopped: false,
    });
    // Taking the next index and checking `stopped` under one lock makes stopping exact: once
    // `done` says stop, not one more item starts.
    let take = || {
        let mut state = dispatch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.stopped || state.next >= items.len() {
            return None;
        }
        let i = state.next;
        state.next += 1;
        Some(i)
    };
    let stop = || {
        dispatch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .stopped = true;
    };
    let (sender, receiver) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            let sender = sender.clone();
            let work = &work;
            let (take, stop, stop_after) = (&take, &stop, &stop_after);
            scope.spawn(move || {
                while let Some(i) = take() {
                    let result = work(i, &items[i]);
                    if stop_after(&result) {
                        stop();
                    }
                    if sender.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for (i, result) in receiver {
            done(i, result);
        }
    });
    dispatch
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_once_and_stop_is_exact() {
        let items: Vec<usize> = (0..100).collect();
        let mut seen = Vec::new();
        let started = run(&items, 4, |_, x| x * 2, |_| false, |i, r| seen.push((i, r)));
        assert_eq!(started, 100);
        seen.sort_unstable();
        assert_eq!(seen, (0..100).map(|i| (i, i * 2)).collect::<Vec<_>>());

        let mut finished = Vec::new();
        // Items after the stopping one are slow, so only those already taken can have started.
        let slow = |i: usize, _: &usize| {
            if i > 10 {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            i
        };
        let started = run(&items, 3, slow, |&i| i == 10, |i, _| finished.push(i));
        finished.sort_unstable();
        // Everything started ran and was reported; at most the other workers' items in
        // flight started after the stopping one.
        assert_eq!(finished, (0..started).collect::<Vec<_>>());
        assert!(started > 10 && started <= 10 + 3, "{started}");
    }

    #[test]
    fn no_items_is_fine() {
        let items: Vec<u8> = Vec::new();
        assert_eq!(run(&items, 8, |_, _| (), |()| false, |_, ()| ()), 0);
    }
}
