"""The fixtures' background jobs (tests/background.py) end with the test session.

A pytest killed mid-run (a timeout, kill -9) used to leave its month-book job recalculating
for half an hour on a machine the next run shares."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SESSION = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests import background

    @background.job("nap", slow=True)
    def nap(root):
        import subprocess
        below = subprocess.Popen(["sleep", "120"])  # what a job starts: a bench command, soffice
        (Path({tmp!r}) / "below.pid").write_text(str(below.pid))
        below.wait()

    class Folders:
        def mktemp(self, name):
            path = Path({tmp!r}) / name
            path.mkdir()
            return path

    if __name__ == "__main__":
        background.start(["nap"], Folders())
        print(background._CHILDREN[0]["process"].pid, flush=True)
        time.sleep(1.5)  # the job is under way
        os.kill(os.getpid(), 9)  # the session dies without tidying up
""")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_job_ends_when_its_session_is_killed(tmp_path):
    script = tmp_path / "session.py"
    script.write_text(SESSION.format(root=str(ROOT), tmp=str(tmp_path)))
    session = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert session.returncode == -signal.SIGKILL, session.stderr
    child = int(session.stdout.split()[0])
    try:
        for _ in range(100):
            if not _alive(child):
                break
            time.sleep(0.1)
        assert not _alive(child), "the job outlived its session"
        below = int((tmp_path / "below.pid").read_text())
        for _ in range(100):
            if not _alive(below):
                break
            time.sleep(0.1)
        assert not _alive(below), "what the job started outlived the session"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
        if (tmp_path / "below.pid").exists() and _alive(int((tmp_path / "below.pid").read_text())):
            os.kill(int((tmp_path / "below.pid").read_text()), signal.SIGKILL)
