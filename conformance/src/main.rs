//! The `touchstone` command.

fn main() {
    eprintln!("touchstone: not built yet");
    std::process::exit(2);
}
