import {
  DEFAULT_COORDINATOR_URL,
  DEFAULT_HTTP_HOST,
  DEFAULT_HTTP_PORT,
} from "../protocol/coordinator-address.ts";

/** `memfarm --help` and each command's help, with examples. */
export const MAIN_HELP = `memfarm: a memory-stress test farm for CPython (bigmem and refleak regrtest jobs)

Usage: memfarm COMMAND [options]

Run a farm:
  up                 coordinator + embedded NATS + a local agent: a whole farm on this machine
  coordinator        the coordinator alone (HTTP API, dashboard, scheduler)
  agent              an agent that joins a farm over NATS

Use a farm:
  submit SUITE       queue a job (bigmem, refleak, bigmem-smoke, ...)
  jobs               list jobs, newest first
  show JOB           one job in detail
  logs JOB           a job's log (--follow to stream it)
  cancel JOB         stop a queued or running job
  retry JOB          run a finished job again as a new job
  tests JOB          a job's tests with peak memory and duration (--sort peak|duration|name)
  compare A B        two jobs test by test, largest change first (a pull request against its base)
  hosts              list agents; hosts drain|undrain NAME; hosts add|upgrade|remove|facts (over SSH)
  agents             agents' NATS credentials: agents creds NAME, agents revoke NAME
  tokens             list, create or revoke API tokens (with the admin token)
  watch              test every new head of a branch: watch add|list|show|pause|resume|check|remove
  regressions        what the watches found got worse (--all for the closed ones too); regressions close ID

Profiles (which farm commands use without --url):
  login URL          check a token against a remote farm and save it: login URL --token TOKEN | --token-file FILE
  logout [NAME|URL]  forget a profile (the current one by default)
  profiles           the farms this CLI knows; up and coordinator save one for the farm they start
  backup FILE        an online copy of the farm's database, safe while it runs; restore FILE puts one back

Global options: --url URL (MEMFARM_URL, else the current profile, default ${DEFAULT_COORDINATOR_URL}),
--token TOKEN (MEMFARM_TOKEN, else the profile's token file, else, for a URL of this machine, the default DATA_DIR/admin-token),
--data-dir DIR (MEMFARM_DATA_DIR: use that farm's DATA_DIR/admin-token), --json.

--json prints the API's resources (see docs/api.md), one JSON document per command.

Exit codes (submit --follow and logs --follow exit with the job's outcome):
  0  ok; the job passed             4  the job timed out
  1  the job's tests failed         5  the job was canceled
  2  bad usage or input, unknown    6  error: the farm could not run the job
     job, missing or refused token  7  the coordinator is unreachable or failing
  3  the job ran out of memory (oom)

Examples:
  memfarm up &
  memfarm submit bigmem-smoke --python "$(command -v python3)" --follow
  memfarm jobs --status failed --json

"memfarm COMMAND --help" shows a command's options.`;

/** The same options of up and coordinator (coordinator/config.ts reads them). */
const BACKUP_AND_RETENTION_HELP = `Backups and retention (the same for up and coordinator; docs/operations/backups-and-retention.md):
  --backup-dir DIR     a backup every night into DIR (created, mode 0700), as memfarm backup takes one:
                       online, named memfarm-YYYY-MM-DDTHHMMSSZ.sqlite, renamed into place once checked
  --backup-keep N      how many of its nightly backups to keep (default 7); older ones it made are removed
  --backup-at HH:MM    the time of day, UTC (default 03:00)
  --keep-samples AGE   raw samples of jobs ended longer ago fold into per-minute summaries: the peak, the
                       per-test figures and the chart stay, a minute fine (default 30d)
  --keep-logs AGE      logs of jobs ended longer ago are compressed or dropped (default 90d)
  --old-logs compress|drop  compress (default: every line still readable) or drop (delete the lines)
AGE is a duration of at least 1h (30d, 12h, 1.5d), or forever to keep them as they are.
`;

export const COMMAND_HELP: Record<string, string> = {
  up: `memfarm up [--config FILE] [--port ${DEFAULT_HTTP_PORT}] [--host ${DEFAULT_HTTP_HOST}] [--data-dir DIR] [--memory SIZE] [--name NAME]
           [--labels k=v,...] [--nats URL[,URL...] [--creds FILE]] [--advertise-nats URL[,URL...]]
           [--nats-port PORT] [--nats-host ADDRESS] [--jobs-dir DIR] [--headroom SIZE] [--lost-after SECONDS]
           [--stream-replicas N]
           [--drain-timeout SECONDS] [--log-format text|json] [--log-level debug|info|warn|error]
           [--backup-dir DIR [--backup-keep N] [--backup-at HH:MM]] [--keep-samples AGE] [--keep-logs AGE]
           [--old-logs compress|drop]

Starts a whole farm on this machine: an embedded nats-server (JetStream on, store under DATA_DIR/nats,
a free port unless --nats-port), the coordinator (SQLite in DATA_DIR, HTTP API and dashboard on --port)
and one local agent advertising this machine (or --memory SIZE of it). The nats-server admits only the
coordinator (DATA_DIR/credentials/coordinator.nk) and agents with credentials issued by the farm (the
local one: DATA_DIR/credentials/agent-NAME.nk). Ctrl-C stops everything it started: running jobs are
handed back to the queue and run again at the next start, unless --drain-timeout SECONDS lets them
finish first. A second Ctrl-C kills them at once.
SECONDS is a number of seconds or a duration with units ms, s, m, h, d: 90s, 15m, 2h, 1h30m.
--log-format json writes the log (stderr) as JSON lines with time, level, msg and context fields
(job, attempt, agent, requestId); --log-level drops lines below it (default info). The same for
coordinator and agent; MEMFARM_LOG_FORMAT and MEMFARM_LOG_LEVEL stand in for them.
--config FILE (or MEMFARM_CONFIG) reads these settings from a TOML or JSON file, one key for each
flag and variable (deploy/memfarm.example.toml lists them, docs/operations/config-file.md explains);
a flag wins over its variable, which wins over the file. Unknown keys and bad values stop the start.

${BACKUP_AND_RETENTION_HELP}
Examples:
  memfarm up --port 8080 --data-dir ./farm
  memfarm up --config farm.toml`,
  coordinator: `memfarm coordinator [--config FILE] [--port ${DEFAULT_HTTP_PORT}] [--host ${DEFAULT_HTTP_HOST}] [--data-dir DIR]
                    [--nats URL[,URL...] [--creds FILE]] [--advertise-nats URL[,URL...]] [--nats-port PORT] [--nats-host ADDRESS]
                    [--jobs-dir DIR] [--headroom SIZE] [--lost-after SECONDS] [--stream-replicas N] [--log-format text|json]
                    [--log-level LEVEL]
                    [--backup-dir DIR [--backup-keep N] [--backup-at HH:MM]] [--keep-samples AGE]
                    [--keep-logs AGE] [--old-logs compress|drop]

Runs the coordinator alone. Without --nats it starts an embedded nats-server that admits only the
coordinator and agents with credentials it issued (memfarm agents creds NAME); at start it prints the
join command for an agent on this machine. With --nats, --creds FILE is the coordinator's own
credentials (an NKey seed or a .creds file) for that server. The embedded nats-server listens on
127.0.0.1 unless --nats-host ADDRESS (0.0.0.0: agents on other hosts join it directly; it admits only
credentials the farm issued). Suite files in --jobs-dir
(default: the package's jobs/) are checked at start; a broken one stops it with the file and field named.
Agents' reports travel through the JetStream stream MEMFARM_REPORTS, which the coordinator creates with
--stream-replicas copies (default: 3 when given three or more --nats URLs, a cluster; else 1).
An agent silent for --lost-after seconds (default 8) is lost and its jobs are requeued.
On SIGTERM or Ctrl-C it stops taking work (calls that change the farm get HTTP 503 shutting_down),
answers the requests in flight and exits 0; jobs on agents keep running. A second signal forces.
SECONDS is a number of seconds or a duration with units ms, s, m, h, d: 90s, 15m, 2h, 1h30m.
--config FILE (or MEMFARM_CONFIG) reads these settings from a TOML or JSON file, one key for each
flag and variable (deploy/memfarm.example.toml lists them, docs/operations/config-file.md explains);
a flag wins over its variable, which wins over the file. Unknown keys and bad values stop the start.
The PR bot's settings (MEMFARM_GITHUB_*, or the file's github keys) take secrets from files too:
github.tokenFile in the file, MEMFARM_GITHUB_TOKEN_FILE in the environment (docs/operations/pr-bot.md).

${BACKUP_AND_RETENTION_HELP}
Examples:
  memfarm coordinator --config /etc/memfarm/memfarm.toml
  memfarm coordinator --backup-dir /var/backups/memfarm --keep-logs 180d
  memfarm coordinator --nats nats://10.0.0.5:4222 --advertise-nats nats://farm.example.org:4222
  memfarm coordinator --nats nats://n1:4222,nats://n2:4222,nats://n3:4222`,
  agent: `memfarm agent --nats URL[,URL...] [--config FILE] [--creds FILE] [--name NAME] [--memory SIZE] [--labels k=v,...]
              [--work-dir DIR] [--sample-interval-ms MS] [--allow-local-repos] [--no-new-jobs HH:MM-HH:MM,...]
              [--drain-timeout SECONDS] [--build-cache-size SIZE] [--log-format text|json] [--log-level LEVEL]

Joins this host to a farm: advertises its memory, cores, arch and labels, runs the jobs it is given,
each in its own cgroup (v2 or v1) limited to the job's reservation, or under a watchdog where there is
no cgroup. --allow-local-repos lets jobs build from file:// URLs and local paths (tests, local mirrors).
--no-new-jobs 22:00-08:00 (UTC) keeps the host from starting jobs in that window every day; running
jobs go on (a host shared with nightly benchmarks).
--build-cache-size 50G caps the disk the finished CPython builds take: the least recently used are
removed past it, never one a running job uses (default: no cap).
--creds FILE: this agent's NATS credentials (memfarm agents creds NAME issues them; an NKey seed file,
or a NATS .creds file for a server in JWT mode). They are valid for --name NAME only.

On SIGTERM or Ctrl-C the agent drains: it takes no new jobs and lets running ones finish for up to
--drain-timeout SECONDS (default 600; 0 = at once), then stops them and hands them back, and the
coordinator queues them again at once (this does not count against the job's attempts). A second
signal kills running jobs and exits.
SECONDS is a number of seconds or a duration with units ms, s, m, h, d: 90s, 15m, 2h, 1h30m.
--config FILE (or MEMFARM_CONFIG) reads these settings from a TOML or JSON file, one key for each
flag and variable (deploy/memfarm.example.toml lists them, docs/operations/config-file.md explains);
a flag wins over its variable, which wins over the file. Unknown keys and bad values stop the start.
--nats may come from the file (agent.nats) like any other setting.

Examples:
  memfarm agent --config /etc/memfarm/memfarm.toml
  memfarm agent --nats nats://127.0.0.1:4222 --creds arm1.nk --name arm1 --labels pool=bigmem
  memfarm agent --nats nats://127.0.0.1:4222 --creds arm1.nk --name arm1 --drain-timeout 3600`,
  submit: `memfarm submit SUITE (--python PATH | --ref REF [--repo URL]) [--memlimit SIZE] [--tests NAME,...]
               [--workers N] [--priority low|normal|high] [--label k=v]... [--exclusive] [--follow] [--json]

Queues a job. --label k=v asks for an agent with that label (arch=aarch64); --exclusive asks for a whole host.
--python runs an interpreter installed on the agents; --ref builds CPython at a branch, tag,
commit SHA or pull/N/head of --repo (default: CPython's upstream) with the suite's configure flags.
SIZE is what regrtest's -M accepts (60g, 2.5Gb, 512M) or plain bytes; at least 2 GiB.
--workers N is regrtest's -jN for this job, and the memory reservation follows it; by default the
suite's workers, but no more than the test files named. With --python, a test the interpreter does
not have is refused with the nearest name. A job no agent could ever hold is refused with advice
that fits the largest agent (fewer --workers, a smaller --memlimit, or the agent to add).
With --follow the log streams until the job ends and the exit code tells the outcome
(0 passed, 1 failed, 3 oom, 4 timed out, 5 canceled, 6 error). On a terminal a status line under the
log shows the phase, elapsed time, current and peak memory and the current test; piped, the output is
the log's plain lines and a last summary line.
--json prints the job as the API returns it (with --follow: the final job, and no log).

Examples:
  memfarm submit bigmem-smoke --python "$(command -v python3)" --follow
  memfarm submit bigmem --ref pull/12345/head --memlimit 24g --tests test_bigmem,test_array
  memfarm submit refleak --ref main --repo https://github.com/me/cpython.git
  memfarm submit refleak --python /usr/bin/python3 --tests test_list,test_tuple --workers 1`,
  jobs: `memfarm jobs [--status S] [--suite S] [--ref REF] [--pr N [--repo OWNER/NAME]] [--host NAME]
             [--limit N] [--cursor C] [--json]

Lists jobs, newest first. --json prints {"jobs": [...], "nextCursor": ...} as the API does; pass
nextCursor to --cursor for the next page. S for --status: queued, assigned, running, passed, failed,
oom, timed_out, canceled, error. --ref matches a built ref exactly; --pr N lists a pull request's
jobs (the PR bot's, and those built from pull/N/head or pull/N/merge), --repo narrows it to one
repository; --host NAME the jobs that ran on that agent.

Examples:
  memfarm jobs --status failed --suite bigmem
  memfarm jobs --pr 12345 --suite refleak
  memfarm jobs --limit 200 --json | jq '.jobs[] | select(.status == "oom") | .id'`,
  show: `memfarm show JOB [--json]

Shows one job: status, why it waits or failed, memory limit and peak, test counts, attempts.
--json prints the job as GET /api/v1/jobs/JOB returns it.

Example:
  memfarm show 42 --json`,
  tests: `memfarm tests JOB [--sort peak|duration|name] [--json]

The job's test files and cases: outcome, peak memory, duration. --sort peak (the default) and
duration put the largest first, name sorts A to Z. --json prints {"jobId", "tests": [...]} as
GET /api/v1/jobs/JOB/tests does.

Examples:
  memfarm tests 42
  memfarm tests 42 --sort duration --json | jq -r '.tests[0].name'`,
  compare: `memfarm compare BASE_JOB HEAD_JOB [--json]

Compares two jobs test by test, as a pull request against its base branch: a header with each job's
ref, commit, Python version and peak, then one row per test with both peaks, the change in bytes and
percent, and the outcome; the largest change (up or down) first. --json prints
GET /api/v1/compare?base=BASE_JOB&head=HEAD_JOB.

Examples:
  memfarm compare 41 42
  memfarm compare 41 42 --json | jq '.tests[] | select(.grew) | .name'`,
  logs: `memfarm logs JOB [--follow] [--json]

Prints a job's log; --follow streams it until the job ends (with the status line on a terminal, as
submit --follow) and exits with the job's outcome (0 passed, 1 failed, 3 oom, 4 timed out, 5 canceled,
6 error). --json prints {"jobId": N, "lines": [{lineNo, attemptId, stream, text}]}; with --follow, the
final job.

Examples:
  memfarm logs 42
  memfarm logs 42 --follow`,
  cancel: `memfarm cancel JOB [--json]

Cancels a queued job at once, or asks the agent to stop a running one (its whole process tree).
Needs a token. --json prints the job.

Example:
  memfarm cancel 42`,
  retry: `memfarm retry JOB [--json]

Queues a finished job again as a new job with the same request. Needs a token. --json prints the new job.

Example:
  memfarm retry 42 && memfarm jobs --limit 1`,
  hosts: `memfarm hosts [--json]
memfarm hosts drain NAME [--json]     the agent finishes what it runs and takes nothing new
memfarm hosts undrain NAME [--json]
memfarm hosts add ssh://USER@HOST[:PORT] [--identity KEY] [--name NAME] [--labels k=v,...]
                  [--accept-new | --fingerprint SHA256:...]
                  [--memory SIZE] [--no-new-jobs HH:MM-HH:MM,...] [--drain-timeout DURATION]
                  [--build-cache-size SIZE]
memfarm hosts upgrade NAME [--identity KEY]   drain, replace the agent, start, undrain
memfarm hosts remove NAME [--identity KEY]    drain, stop, uninstall, revoke its NATS credentials
memfarm hosts facts NAME [--identity KEY]     gather the host's facts again

Lists the agents with the memfarm version each runs, and the versions the coordinator takes (its own
release line and the one before it). --json prints {"agents": [...], "coordinator": {...}} as
GET /api/v1/agents does; drain and undrain print the agent. Upgrading: the coordinator first, then
"memfarm hosts upgrade NAME" for each host (docs/operations/upgrade.md).

add connects over SSH, verifies the host key (the farm's own known-hosts store: a first key needs
--fingerprint or --accept-new, a changed key is refused), checks the host, uploads the agent into
~USER/.memfarm, starts it (systemd where it runs, a detached process otherwise) and waits until it has
joined. As root on a systemd host, the agent runs as the system user memfarm-agent (home
/var/lib/memfarm-agent) in a hardened system unit. --memory, --no-new-jobs, --drain-timeout and --build-cache-size are the installed agent's own
options (memfarm agent --help), kept for upgrades; the unit's TimeoutStopSec is the drain timeout
plus a minute. Each step is printed as it runs. The private key (--identity, default ~/.ssh/id_ed25519,
id_ecdsa or id_rsa; passphrase from MEMFARM_SSH_PASSPHRASE) is sent to the coordinator for that one
operation and never stored. Running a command again after a failure is safe.

Examples:
  memfarm hosts
  memfarm hosts drain arm-500g-1
  memfarm hosts add ssh://memfarm@arm1.example.org --identity ~/.ssh/farm_ed25519 --labels rack=b --accept-new`,
  agents: `memfarm agents creds NAME [--output FILE] [--json]
memfarm agents revoke NAME [--json]

creds issues NATS credentials (an NKey user seed) for the agent NAME: it may publish and subscribe on
its own subjects only. Without --output the file's content goes to stdout; --output writes it with mode
0600. Issuing again replaces the agent's key. revoke stops the key: the agent's connection is dropped
and it cannot connect again. A coordinator running its own nats-server applies both at once; with an
external NATS (--nats URL) include DATA_DIR/nats/authorization.conf in that server's config and reload it.

Example:
  memfarm agents creds arm-500g-1 --output arm-500g-1.nk
  scp arm-500g-1.nk arm-500g-1:.memfarm/ && ssh arm-500g-1 memfarm agent --nats nats://farm:4222 \\
      --creds .memfarm/arm-500g-1.nk --name arm-500g-1`,
  tokens: `memfarm tokens [list] [--json]
memfarm tokens create OWNER [--json]    a new token for OWNER (a person or a bot); shown only once
memfarm tokens revoke ID [--json]       refused from the next request on

Managing tokens needs the farm's admin token (a local farm's DATA_DIR/admin-token is used by default).
Only hashes are stored: a lost token cannot be shown again; revoke it and create another.
--json prints the API's records ({"tokens": [{id, owner, createdAt, revokedAt}]}; create adds "token").

Examples:
  memfarm tokens create pr-bot
  MEMFARM_TOKEN=mf_... memfarm submit bigmem-smoke --python /usr/bin/python3
  memfarm tokens revoke 2`,
  watch: `memfarm watch add NAME --branch BRANCH --suite SUITE [--repo URL] [--memlimit SIZE] [--tests NAME,...]
                   [--label k=v]... [--every DURATION] [--comment-culprit]
memfarm watch list [--json]             every watch, its head and its last error
memfarm watch show NAME [--json]        one watch and the heads it saw, with their jobs
memfarm watch pause|resume NAME         stop and start looking up the branch
memfarm watch check NAME                look the branch up now
memfarm watch remove NAME

The coordinator looks the branch's head up every --every (default 15m; e.g. 5m, 1h) with git ls-remote
and queues a job of SUITE pinned to each new head (provenance "watch NAME"). While the farm is busy a
watch has at most one job waiting: the newest head takes it over, and the heads it replaced are shown as
untested. A failing look-up (remote down, branch deleted) is shown on the watch and queues nothing.
--repo defaults to CPython's repository. With --comment-culprit, when a bisection names the commit
that caused a regression, the PR bot (if configured) comments on that commit's pull request.

Examples:
  memfarm watch add main-bigmem --branch main --suite bigmem --memlimit 60g --every 15m
  memfarm watch show main-bigmem
  memfarm watch pause main-bigmem`,
  regressions: `memfarm regressions [--all] [--watch NAME] [--json]
memfarm regressions show ID [--json]   one regression and its bisection: culprit, range, jobs
memfarm regressions close ID

A watch opens a regression when a test's peak memory grows past its noise (the spread of its last
good runs, at least 5 % and 32 MiB) or when it passed and now fails, leaks or ends oom: the test, the
last good and the first bad commit, the numbers. It closes when a later commit is back within the
noise, or by hand. A re-run of the same commit never opens one.

Each regression is bisected on its own: the commits between the last good and the first bad are read
from the coordinator's mirror of the repository (first parent, oldest first), and rounds of
low-priority jobs running only that test file (as many at once as there are hosts online) narrow them
down; a commit that does not build is skipped; the boundary is confirmed by one rerun of each side,
and if a rerun disagrees the test is called flaky and the regression is closed, blaming no commit.

Examples:
  memfarm regressions
  memfarm regressions --all --watch main-bigmem --json
  memfarm regressions show 3
  memfarm regressions close 3`,
  login: `memfarm login URL (--token TOKEN | --token-file FILE)

Asks the farm at URL whom the token belongs to (GET /api/v1/whoami) and, only if it accepts it, saves a
profile for URL and makes it current: commands then use that farm and token without --url or --token.
Profiles are in $XDG_CONFIG_HOME/memfarm/profiles.json (else ~/.config/memfarm/), mode 0600; they hold
the URL and the path of a token file, never the token. --token TOKEN is written to a file of its own
beside them (mode 0600); a --token-file is used where it is. A wrong token saves nothing.
Order: --url/--token, then MEMFARM_URL/MEMFARM_TOKEN, then the profile, then the defaults.

Examples:
  memfarm login https://memfarm.example.org --token-file ~/memfarm.token
  memfarm jobs                            # that farm, with that token`,
  logout: `memfarm logout [NAME|URL]

Forgets a profile (the current one by default) and the token file login wrote for it. A local farm's
own DATA_DIR/admin-token is left alone. "memfarm profiles" lists the names.

Example:
  memfarm logout memfarm.example.org`,
  profiles: `memfarm profiles [--json]

The farms this CLI knows (* marks the current one), with their token files and what saved them:
memfarm up and memfarm coordinator save a profile for the farm they start, memfarm login one for a
remote farm. --json: {"file", "current", "profiles": {NAME: {url, tokenFile, savedBy, savedAt}}}.

Example:
  memfarm profiles`,
  backup: `memfarm backup FILE [--data-dir DIR] [--json]

Copies the farm's database (DATA_DIR/memfarm.sqlite) to FILE while the farm runs: SQLite's online
backup, one consistent state, checked with integrity_check before it takes FILE's name. FILE must not
exist. Logs, samples and test results are all in it; the NATS credentials and tokens files in DATA_DIR
are not (copy DATA_DIR/credentials and DATA_DIR/admin-token with it).
--json: {"file", "bytes", "jobs"}.

Example:
  memfarm backup /var/backups/memfarm-$(date +%F).sqlite`,
  restore: `memfarm restore FILE [--data-dir DIR] [--json]

Puts a backup made by memfarm backup in place of DATA_DIR/memfarm.sqlite. Refuses while a farm runs
on DATA_DIR (stop it first), and refuses a file that is damaged or not a farm's database. The database
it replaces is kept beside it as memfarm.sqlite.before-restore-TIME.
--json: {"file", "bytes", "jobs", "keptAs"}.

Example:
  memfarm restore /var/backups/memfarm-2026-12-01.sqlite --data-dir /var/lib/memfarm`,
};
