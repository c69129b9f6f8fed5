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


JOB_MODULE = textwrap.dedent("""
    import os
    from pathlib import Path

    import pytest

    from . import background

    COUNT = Path({count!r})


    @background.job("counted")
    def counted(root):
        with COUNT.open("a") as f:
            f.write("job\\n")
        return os.getpid()


    @pytest.fixture(scope="module")
    def made(tmp_path_factory):
        return background.result("counted", tmp_path_factory)


    @pytest.fixture(scope="session")
    def built(tmp_path_factory):
        def make(folder):
            with COUNT.open("a") as f:
                f.write("once\\n")
            return str(folder)
        return background.once("built", tmp_path_factory, make)


    def test_{name}(made, built):
        assert made != os.getpid()  # done in the controller's child, not here
        assert Path(built).is_dir()
        with COUNT.open("a") as f:
            f.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
""")


def test_under_xdist_a_job_and_a_once_fixture_run_once_for_all_workers(tmp_path):
    """Two workers each run both modules (--dist each), each needing the job and the
    session fixture: the controller's child does the job once, the first worker the other."""
    package = tmp_path / "tests"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("conftest.py", "background.py"):
        (package / name).write_text((ROOT / "tests" / name).read_text())
    count = tmp_path / "count.txt"
    for name in ("a", "b"):
        (package / f"test_{name}.py").write_text(JOB_MODULE.format(count=str(count), name=name))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                          "--dist", "each", "tests"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = count.read_text().split()
    assert sorted(w for w in lines if w.startswith("gw")) == ["gw0", "gw0", "gw1", "gw1"], lines
    assert lines.count("job") == 1 and lines.count("once") == 1, lines
    assert "counted" in run.stdout  # its timings printed at the session's end
