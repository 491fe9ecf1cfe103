//! The bridge budgets (DESIGN.md section 6) against a loopback nats-server: the measurement
//! lands in the next commit.
fn main() {}
