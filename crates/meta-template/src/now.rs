//! cookiecutter's `{% now %}` tag (its `TimeExtension`): the current time in a time zone,
//! optionally shifted (`'utc' + 'days=1, hours=2'`), formatted with `strftime`.

use std::fmt::Write as _;

use jiff::tz::{Offset, TimeZone};
use jiff::{Span, ZonedDateTime};
use minijinja::value::Value;
use minijinja::{Error, ErrorKind};

/// The format `{% now %}` uses when none is given (`environment.datetime_format`).
const DEFAULT_FORMAT: &str = "%Y-%m-%d";

/// Marks the operator of a `{% now %}` offset when `jinja2_time.TimeExtension` parsed the tag.
pub const JINJA2_TIME_MARK: &str = "jinja2_time";

/// Called by the rewritten tag: `(timezone, operator or none, offset or none, format or none)`.
pub fn now_function(tz: Value, op: Value, offset: Value, format: Value) -> Result<String, Error> {
    let tz_name = tz.as_str().map_or_else(|| tz.to_string(), str::to_owned);
    let zone = time_zone(&tz_name)?;
    let mut now = ZonedDateTime::new(crate::chance::now(), zone);
    if let (Some(op), Some(offset)) = (op.as_str(), offset.as_str()) {
        if op.starts_with(JINJA2_TIME_MARK) {
            // jinja2_time 0.2 shifts with `arrow.replace(days=…)`, which arrow 1.0 removed:
            // cookiecutter fails here too.
            return Err(fail(format!(
                "`{{% now %}}` with an offset (`{offset}`) fails with `jinja2_time.TimeExtension` in \
                 `_extensions`: jinja2_time passes it to arrow's `replace()`, which arrow 1.0 and \
                 later refuse (\"Unknown attribute: 'days'\"); remove `jinja2_time.TimeExtension` \
                 from `_extensions` (cookiecutter's own `{{% now %}}` shifts correctly)"
            )));
        }
        now = shift(&now, op == "-", offset)?;
    }
    let format = if format.is_none() || format.is_undefined() {
        DEFAULT_FORMAT.to_owned()
    } else {
        format
            .as_str()
            .map_or_else(|| format.to_string(), str::to_owned)
    };
    strftime(&now, &format)
}

fn fail(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// arrow's time zone parser: `local`, `utc`/`UTC`, ISO offsets, IANA names.
fn time_zone(name: &str) -> Result<TimeZone, Error> {
    match name {
        "local" => return Ok(TimeZone::system()),
        "utc" | "UTC" | "Z" | "z" => return Ok(TimeZone::UTC),
        _ => {}
    }
    if let Some(offset) = parse_offset(name) {
        return Ok(TimeZone::fixed(offset));
    }
    TimeZone::get(name).map_err(|e| fail(format!("unknown time zone '{name}' in {{% now %}}: {e}")))
}

fn parse_offset(text: &str) -> Option<Offset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

/// arrow's `shift(**{unit: float(op + value)})` for each `unit=value` in `offset`.
fn shift(now: &ZonedDateTime, negative: bool, offset: &str) -> Result<ZonedDateTime, Error> {
    let mut result = now.clone();
    for param in offset.split(',') {
        let Some((unit, value)) = param.split_once('=') else {
            return Err(fail(format!(
                "bad {{% now %}} offset '{param}': expected unit=value"
            )));
        };
        let unit = unit.trim();
        let mut amount: f64 = value
            .trim()
            .parse()
            .map_err(|_| fail(format!("bad {{% now %}} offset value '{}'", value.trim())))?;
        if negative {
            amount = -amount;
        }
        let whole = |a: f64| -> Result<i64, Error> {
            if a.fract() != 0.0 {
                return Err(fail(format!(
                    "non-integer {unit} are ambiguous in {{% now %}}"
                )));
            }
            #[allow(clippy::cast_possible_truncation)] // checked whole above / rounded microseconds
            Ok(a as i64)
        };
        let micros = |scale: f64| -> i64 {
            #[allow(clippy::cast_possible_truncation)] // checked whole above / rounded microseconds
            let n = (amount * scale).round() as i64;
            n
        };
        let span = match unit {
            "years" => Span::new().try_years(whole(amount)?),
            "quarters" => Span::new().try_months(whole(amount)? * 3),
            "months" => Span::new().try_months(whole(amount)?),
            "weeks" => Span::new().try_microseconds(micros(7.0 * 86_400e6)),
            "days" => Span::new().try_microseconds(micros(86_400e6)),
            "hours" => Span::new().try_microseconds(micros(3_600e6)),
            "minutes" => Span::new().try_microseconds(micros(60e6)),
            "seconds" => Span::new().try_microseconds(micros(1e6)),
            "microseconds" => Span::new().try_microseconds(micros(1.0)),
            other => return Err(fail(format!("unknown {{% now %}} offset unit '{other}'"))),
        }
        .map_err(|e| fail(e.to_string()))?;
        // Calendar units move the civil date (arrow keeps the wall clock); exact units move time.
        result = if matches!(unit, "years" | "quarters" | "months") {
            result.checked_add(span)
        } else {
            result
                .timestamp()
                .checked_add(span)
                .map(|t| t.to_zoned_datetime(result.time_zone().clone()))
        }
        .map_err(|e| fail(e.to_string()))?;
    }
    Ok(result)
}

/// Python's `datetime.strftime` in the C locale.
pub fn strftime(time: &ZonedDateTime, format: &str) -> Result<String, Error> {
    let mut expanded = String::with_capacity(format.len());
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            expanded.push(c);
            continue;
        }
        match chars.next() {
            Some('c') => expanded.push_str("%a %b %e %H:%M:%S %Y"),
            Some('x') => expanded.push_str("%m/%d/%y"),
            Some('X') => expanded.push_str("%H:%M:%S"),
            Some('r') => expanded.push_str("%I:%M:%S %p"),
            Some('f') => {
                let _ = write!(expanded, "{:06}", time.subsec_nanosecond() / 1000);
            }
            Some(other) => {
                expanded.push('%');
                expanded.push(other);
            }
            None => expanded.push('%'),
        }
    }
    jiff::fmt::strtime::format(expanded.as_bytes(), time)
        .map_err(|e| fail(format!("cannot format the time with '{format}': {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python() {
        let t: ZonedDateTime = "2024-03-05T07:08:09.012345+00:00[UTC]".parse().unwrap();
        assert_eq!(
            strftime(&t, "%Y-%m-%d %H:%M:%S.%f %a %b %j %p").unwrap(),
            "2024-03-05 07:08:09.012345 Tue Mar 065 AM"
        );
        assert_eq!(
            strftime(&t, "%c|%x|%X").unwrap(),
            "Tue Mar  5 07:08:09 2024|03/05/24|07:08:09"
        );
        let shifted = shift(&t, false, "days=1, hours=2").unwrap();
        assert_eq!(strftime(&shifted, "%d %H").unwrap(), "06 09");
        let back = shift(&t, true, "months=2").unwrap();
        assert_eq!(strftime(&back, "%Y-%m-%d").unwrap(), "2024-01-05");
    }
}
