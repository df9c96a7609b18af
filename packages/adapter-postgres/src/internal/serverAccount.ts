/**
 * The account PostgreSQL runs as. PostgreSQL refuses to run as root, so when
 * this process is root the server runs as the `postgres` system user (created
 * if missing), which must be able to reach the cluster directory and own it.
 */
import { Command, type CommandExecutor, FileSystem, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import { type Account, PostmasterError, run } from "./postmaster.js"

const name = "postgres"

/**
 * Creates the cluster directory and returns the account to run PostgreSQL as:
 * none (this process's user) unless this process is root.
 */
export const prepareDataDir = (
  dataDir: string
): Effect.Effect<
  Option.Option<Account>,
  PostmasterError,
  FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const failure = (message: string) => (cause: unknown) => new PostmasterError({ message, cause })
    yield* fs.makeDirectory(path.dirname(dataDir), { recursive: true }).pipe(
      Effect.zipRight(fs.makeDirectory(dataDir, { recursive: true, mode: 0o700 })),
      Effect.mapError(failure(`could not create ${dataDir}`))
    )
    if (process.getuid?.() !== 0) return Option.none()

    const account = yield* lookup.pipe(
      Effect.orElse(() =>
        Effect.logWarning(
          `running as root and PostgreSQL refuses to run as root: creating the system user ${name} to run it`
        ).pipe(
          Effect.zipRight(run(Command.make("useradd", "--system", "--user-group", "--no-create-home", name))),
          Effect.filterOrFail(
            ({ exitCode }) => exitCode === 0,
            ({ output }) => new PostmasterError({ message: output })
          ),
          Effect.zipRight(lookup)
        )
      ),
      Effect.mapError(failure(
        `PostgreSQL refuses to run as root and there is no ${name} user to run it as, nor could one be created; ` +
          `create it (useradd --system --user-group ${name}) or run as an unprivileged user`
      ))
    )
    const blocked = yield* firstUnreachableAncestor(fs, path, dataDir, account).pipe(
      Effect.mapError(failure(`could not inspect the directories above ${dataDir}`))
    )
    if (Option.isSome(blocked)) {
      const { mode, uid } = blocked.value
      return yield* new PostmasterError({
        message: `running as root, PostgreSQL runs as the ${name} user (uid ${account.uid}), which cannot enter ` +
          `${blocked.value.path} (mode ${mode.toString(8)}, owner uid ${uid}); ` +
          `make it searchable (chmod o+x) or choose another data directory`
      })
    }
    const owner = yield* Effect.mapError(fs.stat(dataDir), failure(`could not inspect ${dataDir}`))
    if (!Option.contains(owner.uid, account.uid)) {
      yield* Effect.logInfo(`running as root: handing ${dataDir} to the ${name} user, which runs PostgreSQL`)
      yield* fs.readDirectory(dataDir, { recursive: true }).pipe(
        Effect.flatMap((entries) =>
          Effect.forEach([dataDir, ...entries.map((entry) => path.join(dataDir, entry))], (file) =>
            fs.chown(file, account.uid, account.gid), { discard: true })
        ),
        Effect.mapError(failure(`could not hand ${dataDir} to the ${name} user`))
      )
    }
    return Option.some(account)
  })

/** The account's uid and gid; fails when it does not exist. */
const lookup = Effect.all([run(Command.make("id", "-u", name)), run(Command.make("id", "-g", name))]).pipe(
  Effect.filterOrFail(
    ([uid, gid]) => uid.exitCode === 0 && gid.exitCode === 0,
    ([uid]) => new PostmasterError({ message: uid.output })
  ),
  Effect.map(([uid, gid]): Account => ({
    name,
    uid: Number.parseInt(uid.output, 10),
    gid: Number.parseInt(gid.output, 10)
  }))
)

/** The first directory above `dataDir` that `account` cannot search (it runs without supplementary groups). */
const firstUnreachableAncestor = (fs: FileSystem.FileSystem, path: Path.Path, dataDir: string, account: Account) =>
  Effect.gen(function*() {
    for (let directory = path.dirname(dataDir);; directory = path.dirname(directory)) {
      const { gid, mode, uid } = yield* fs.stat(directory)
      const bit = Option.contains(uid, account.uid) ? 0o100 : Option.contains(gid, account.gid) ? 0o010 : 0o001
      if ((mode & bit) === 0) {
        return Option.some({ path: directory, mode: mode & 0o7777, uid: Option.getOrElse(uid, () => -1) })
      }
      if (path.dirname(directory) === directory) return Option.none()
    }
  })
