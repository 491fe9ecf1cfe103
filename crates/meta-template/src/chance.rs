//! Where a render's time and randomness come from: the system's, unless the caller fixed them
//! (`RenderOptions::reproducible`): then `{% now %}` reads one instant and `random`,
//! `random_ascii_string`, `uuid4` and `lipsum` draw from one seeded generator, so two renders
//! with the same answers (`meta template update`'s base and target) agree on everything the
//! template did not change. Per thread: a render runs on the thread that calls it.

use std::cell::RefCell;

use jiff::Timestamp;

/// A fixed instant and a seed for one render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reproducible {
    pub now: Timestamp,
    pub seed: u64,
}

impl Reproducible {
    /// The current instant and a fresh random seed: one per `meta template update` run.
    pub fn fresh() -> Self {
        let mut seed = [0u8; 8];
        // Without system randomness the seed is the clock: still one value for both renders.
        let now = Timestamp::now();
        if getrandom::fill(&mut seed).is_err() {
            seed = now.as_nanosecond().to_le_bytes()[..8]
                .try_into()
                .unwrap_or([0; 8]);
        }
        Self {
            now,
            seed: u64::from_le_bytes(seed),
        }
    }
}

thread_local! {
    static FIXED: RefCell<Option<(Timestamp, u64)>> = const { RefCell::new(None) };
}

/// Fixes time and randomness on this thread until the guard drops.
pub(crate) fn fix(reproducible: Option<Reproducible>) -> Guard {
    let previous = FIXED.with(|f| f.replace(reproducible.map(|r| (r.now, r.seed))));
    Guard { previous }
}

pub(crate) struct Guard {
    previous: Option<(Timestamp, u64)>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        FIXED.with(|f| *f.borrow_mut() = self.previous.take());
    }
}

/// The render's current instant.
pub(crate) fn now() -> Timestamp {
    FIXED
        .with(|f| f.borrow().map(|(now, _)| now))
        .unwrap_or_else(Timestamp::now)
}

/// Random bytes: from the render's seeded generator (splitmix64) when fixed, else the system.
pub(crate) fn fill(buf: &mut [u8]) -> Result<(), getrandom::Error> {
    let seeded = FIXED.with(|f| {
        let mut fixed = f.borrow_mut();
        let (_, state) = fixed.as_mut()?;
        for chunk in buf.chunks_mut(8) {
            *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Some(())
    });
    match seeded {
        Some(()) => Ok(()),
        None => getrandom::fill(buf),
    }
}
