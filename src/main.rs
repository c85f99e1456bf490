fn main() -> std::process::ExitCode {
    vitrina::cli::main()
}
