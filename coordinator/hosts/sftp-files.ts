import type { SFTPWrapper } from "ssh2";

/** Small promise wrappers over ssh2's SFTP callbacks, for what the installer does. */

/** `mkdir -p` one directory at a time (SFTP has no recursive mkdir); existing ones are fine. */
export async function makeDirectories(sftp: SFTPWrapper, path: string, mode = 0o700): Promise<void> {
  let current = "";
  for (const part of path.split("/").filter(Boolean)) {
    current += `/${part}`;
    const exists = await new Promise<boolean>((resolve) => sftp.stat(current, (error) => resolve(!error)));
    if (exists) continue;
    await new Promise<void>((resolve, reject) =>
      sftp.mkdir(current, { mode }, (error) => (error ? reject(error) : resolve())),
    );
  }
}

/** Uploads to `remote.tmp` and renames, so a cut upload never leaves a half file under the real name. */
export async function uploadFile(
  sftp: SFTPWrapper,
  local: string,
  remote: string,
  mode = 0o755,
): Promise<void> {
  const partial = `${remote}.tmp`;
  await new Promise<void>((resolve, reject) =>
    sftp.fastPut(local, partial, { mode }, (error) => (error ? reject(error) : resolve())),
  );
  await renameOver(sftp, partial, remote);
}

/** Writes `content` with `mode` from the start (credentials are never readable by others). */
export async function writeRemoteFile(
  sftp: SFTPWrapper,
  remote: string,
  content: string,
  mode = 0o600,
): Promise<void> {
  const partial = `${remote}.tmp`;
  await new Promise<void>((resolve, reject) =>
    sftp.writeFile(partial, content, { mode }, (error) => (error ? reject(error) : resolve())),
  );
  await new Promise<void>((resolve, reject) =>
    sftp.chmod(partial, mode, (error) => (error ? reject(error) : resolve())),
  );
  await renameOver(sftp, partial, remote);
}

/** OpenSSH's posix-rename replaces the target; plain SFTP rename refuses an existing one. */
function renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.ext_openssh_rename(from, to, (error) => {
      if (!error) return resolve();
      // Without the extension: remove, then rename.
      sftp.unlink(to, () => sftp.rename(from, to, (again) => (again ? reject(again) : resolve())));
    }),
  );
}
