use clap::Parser;

fn main() {
    let cli = lacrima::cli::Cli::parse();
    std::process::exit(lacrima::cli::run(cli));
}
