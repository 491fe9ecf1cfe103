//! Builds a fixture meta-repo by hand, for profiling or poking at: `cargo run -p meta-test
//! --example metarepo -- DIR N [--shared]` (`--shared`: the large-fixture builder, one seed
//! history shared through alternates). Prints the superproject's path and the build time.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shared = args.iter().any(|a| a == "--shared");
    let mut plain = args.iter().filter(|a| !a.starts_with("--"));
    let (Some(dir), Some(Ok(count))) = (plain.next(), plain.next().map(|n| n.parse::<usize>()))
    else {
        eprintln!("usage: metarepo DIR N [--shared]");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let dir = PathBuf::from(dir);
    let built = if shared {
        meta_test::MetaRepo::build_shared(&dir, count)
    } else {
        meta_test::MetaRepo::build(&dir, count)
    };
    match built {
        Ok(repo) => {
            println!("{}", repo.root().display());
            eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
