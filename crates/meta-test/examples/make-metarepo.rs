//! `cargo run -p meta-test --example make-metarepo -- DIR [N] [--edge-cases]`: builds the
//! fixture by hand (to look at it, or to time `meta` on it) and prints the superproject's path.

use std::process::ExitCode;

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let edge_cases = args.iter().any(|a| a == "--edge-cases");
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(dir) = positional.first() else {
        eprintln!("usage: make-metarepo DIR [N] [--edge-cases]");
        return ExitCode::from(2);
    };
    let count = match positional.get(1).map(|n| n.parse::<usize>()) {
        None => 50,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("N must be a number");
            return ExitCode::from(2);
        }
    };
    let built = if edge_cases {
        meta_test::MetaRepo::with_edge_cases(std::path::Path::new(dir))
    } else {
        meta_test::MetaRepo::build(std::path::Path::new(dir), count)
    };
    match built {
        Ok(repo) => {
            println!("{}", repo.root().display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
