//! `eosim`: run delivery-protocol scenarios deterministically and check
//! whether they keep their promises. The command line lives in the library
//! ([`eosim::main`]).

use std::process::ExitCode;

/// Runs allocate and free whole buffers; mimalloc keeps freed memory in the
/// process instead of paying the kernel's page faults again for every run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    eosim::main()
}
