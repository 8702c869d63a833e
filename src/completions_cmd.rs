//! `eosim completions` and `eosim man`: a shell completion script and the
//! man pages, generated from the same clap definition as `--help`, so that
//! neither can drift from the command line.

use std::path::{Path, PathBuf};

use clap::Args;
use clap_complete::Shell;
use clap_mangen::Man;

/// How to install a completion script, shown by `eosim completions --help`.
pub const COMPLETIONS_HELP: &str = "\
Install (then start a new shell):
  bash        eosim completions bash > ~/.local/share/bash-completion/completions/eosim
  zsh         eosim completions zsh > ~/.zfunc/_eosim
              and in ~/.zshrc: fpath+=~/.zfunc; autoload -U compinit; compinit
  fish        eosim completions fish > ~/.config/fish/completions/eosim.fish
  powershell  in $PROFILE: eosim completions powershell | Out-String | Invoke-Expression
  elvish      in ~/.config/elvish/rc.elv: eval (eosim completions elvish | slurp)";

/// How to read and install the man pages, shown by `eosim man --help`.
pub const MAN_HELP: &str = "\
Read it:  eosim man > eosim.1; man ./eosim.1
Install:  eosim man --out ~/.local/share/man/man1
          then `man eosim`, `man eosim-run`, … (man finds ~/.local/share/man
          when ~/.local/bin is on PATH; otherwise add it to MANPATH)";

/// Arguments of `eosim completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

/// Arguments of `eosim man`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// Instead of printing eosim.1, write eosim.1 and one page per command
    /// (eosim-run.1, eosim-sweep.1, …) into this folder, creating it.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Print the completion script for the chosen shell to stdout; exit code 0.
pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut cmd = crate::cli_command();
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut script);
    crate::out(String::from_utf8_lossy(&script));
    0
}

/// Print eosim's man page to stdout, or write every page into `--out`;
/// exit code 0, or 2 if a page cannot be written.
pub fn man(args: &ManArgs) -> u8 {
    let written = match &args.out {
        None => render(&Man::new(command())).map(|page| crate::out(String::from_utf8_lossy(&page))),
        Some(dir) => write_pages(dir),
    };
    match written {
        Ok(()) => 0,
        Err(msg) => {
            errln!("error: {msg}");
            2
        }
    }
}

/// The command tree as the man pages show it: built, so that subcommands
/// are named `eosim-run` and so on, and without the `help` subcommand,
/// which needs no page of its own.
fn command() -> clap::Command {
    let mut cmd = crate::cli_command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// One page as roff.
fn render(man: &Man) -> Result<Vec<u8>, String> {
    let mut page = Vec::new();
    man.render(&mut page)
        .map_err(|e| format!("cannot render the man page: {e}"))?;
    Ok(page)
}

/// The file name and text of `cmd`'s page and of every visible
/// subcommand's, depth first.
fn pages(cmd: &clap::Command, into: &mut Vec<(String, Vec<u8>)>) -> Result<(), String> {
    let man = Man::new(cmd.clone());
    into.push((man.get_filename(), render(&man)?));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages(sub, into)?;
    }
    Ok(())
}

/// Write every page into `dir`, each through a temporary file renamed into
/// place, so that an interrupted run never leaves half a page; print the
/// path of each page written.
fn write_pages(dir: &Path) -> Result<(), String> {
    let mut all = Vec::new();
    pages(&command(), &mut all)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (name, page) in all {
        let path = dir.join(&name);
        let tmp = dir.join(format!(".{name}.partial"));
        if let Err(e) = std::fs::write(&tmp, page).and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("cannot write {}: {e}", path.display()));
        }
        crate::outln(format!("wrote {}", path.display()));
    }
    Ok(())
}
