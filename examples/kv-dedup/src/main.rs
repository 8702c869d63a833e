//! `kv-eosim`: the whole `eosim` command line, with the set-if-absent
//! protocols added.

fn main() -> std::process::ExitCode {
    eosim::main_with(kv_dedup::registry())
}
