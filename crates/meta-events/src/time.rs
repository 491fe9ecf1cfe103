//! Timestamps as CloudEvents `time` wants them: RFC 3339, UTC, microseconds
//! (`2024-05-01T12:00:00.123456Z`). Formatted by hand because the daemon stamps every event.

use std::time::{SystemTime, UNIX_EPOCH};

/// Length of a formatted timestamp.
pub const LEN: usize = 27;

/// The current time, formatted.
pub fn now() -> String {
    let mut buf = [0u8; LEN];
    format_now(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Formats the current time into `buf` and returns it as text.
pub fn format_now(buf: &mut [u8; LEN]) -> &str {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format(since.as_secs(), since.subsec_micros(), buf)
}

/// Formats `secs` since the epoch plus `micros` into `buf`.
pub fn format(secs: u64, micros: u32, buf: &mut [u8; LEN]) -> &str {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    let mut put = |at: usize, value: u64, width: usize| {
        let mut value = value;
        for i in (0..width).rev() {
            buf[at + i] = b'0' + u8::try_from(value % 10).unwrap_or(0);
            value /= 10;
        }
    };
    put(0, u64::try_from(year).unwrap_or(0), 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, rem / 3600, 2);
    put(14, rem / 60 % 60, 2);
    put(17, rem % 60, 2);
    put(20, u64::from(micros), 6);
    buf[4] = b'-';
    buf[7] = b'-';
    buf[10] = b'T';
    buf[13] = b':';
    buf[16] = b':';
    buf[19] = b'.';
    buf[26] = b'Z';
    std::str::from_utf8(buf).unwrap_or("1970-01-01T00:00:00.000000Z")
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u64::try_from(month).unwrap_or(1),
        u64::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_jiff() {
        let mut buf = [0u8; LEN];
        for secs in [
            0u64,
            951_782_400,
            1_709_210_096,
            4_102_444_799,
            1_234_567_890,
        ] {
            let ours = format(secs, 123_456, &mut buf).to_owned();
            let ts = jiff::Timestamp::from_second(i64::try_from(secs).unwrap()).unwrap();
            let theirs = format!("{}.123456Z", ts.strftime("%Y-%m-%dT%H:%M:%S"));
            assert_eq!(ours, theirs);
            assert!(ours.parse::<jiff::Timestamp>().is_ok());
        }
        assert_eq!(now().len(), LEN);
    }
}
