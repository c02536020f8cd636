//! `huiyin keygen`, and reading key files and key strings.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use infra::note::{KeyType, SignerKey, VerifierKey};

use crate::cli::KeygenArgs;
use crate::output;

/// A key file is small; anything larger is not a key.
const KEY_FILE_BYTES_MAX: u64 = 4096;

fn read_small(path: &Path) -> anyhow::Result<String> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > KEY_FILE_BYTES_MAX {
        bail!("{} is too large to be a key file", path.display());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads a signer key file (`PRIVATE+KEY+…`).
pub(crate) fn read_signer(path: &Path) -> anyhow::Result<SignerKey> {
    let text = read_small(path)?;
    SignerKey::parse(&text).with_context(|| format!("{} is not a signer key", path.display()))
}

/// Takes a verifier key given as the key string itself or as a file holding it.
pub(crate) fn read_verifier(key_or_file: &str) -> anyhow::Result<VerifierKey> {
    if let Ok(key) = VerifierKey::parse(key_or_file) {
        return Ok(key);
    }
    let path = Path::new(key_or_file);
    if !path.exists() {
        bail!("{key_or_file:?} is neither a verifier key string nor a file");
    }
    let text = read_small(path)?;
    VerifierKey::parse(&text).with_context(|| format!("{} is not a verifier key", path.display()))
}

fn with_extension(prefix: &Path, extension: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

/// Creates a file that must not exist yet, readable by its owner only when `secret`.
fn create_new(path: &Path, contents: &str, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

pub(crate) fn keygen(args: KeygenArgs, origin: &str) -> anyhow::Result<ExitCode> {
    let (name, key_type) = match (args.name, args.witness) {
        (Some(name), true) => (name, KeyType::Cosignature),
        (None, true) => bail!("a witness key needs --name (e.g. --name liaison.example/witness)"),
        (name, false) => (name.unwrap_or_else(|| origin.to_owned()), KeyType::Ed25519),
    };
    let signer = SignerKey::generate(&name, key_type)?;
    let verifier = signer.verifier().to_string();
    let secret_path = with_extension(&args.out, "key");
    let public_path = with_extension(&args.out, "pub");
    if public_path.exists() {
        bail!("{} already exists", public_path.display());
    }
    create_new(
        &secret_path,
        &format!("{}\n", signer.to_key_string()),
        0o600,
    )?;
    create_new(&public_path, &format!("{verifier}\n"), 0o644)?;
    output::text(&verifier)?;
    eprintln!(
        "huiyin keygen: wrote {} (secret, mode 0600) and {}",
        secret_path.display(),
        public_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
