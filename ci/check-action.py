#!/usr/bin/env python3
"""Checks action.yml and runs its shell steps as GitHub Actions would, without GitHub.

    python3 ci/check-action.py [--input NAME=VALUE ...] [--expect-status N]

It checks the file's structure (a composite action; every `${{ inputs.X }}` names a declared
input; every `run` step names its shell; every output maps to a step that exists) and that
the GitLab template and the workflow files are valid YAML that run what they should, then runs
the `run` steps in order with bash, with the expressions the steps use replaced by their values
(inputs and their defaults, runner.temp, github.action_path, steps.<id>.outputs.<name>) and
GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, as the runner does. `uses:` steps (cache, artifact
upload) are GitHub's own and are skipped. A step that fails stops the run, as on GitHub; the
exit status is the failing step's (or 0), and --expect-status checks it.

TOUCHSTONE_BIN in the environment is kept (the build step then finds nothing to build when it
points into runner.temp); otherwise the build step runs cargo install.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # .ci/run installs PyYAML when it is missing
    sys.exit("check-action.py needs PyYAML (pip install pyyaml)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def fail(msg):
    print(f"action.yml: {msg}", file=sys.stderr)
    sys.exit(2)


def check_structure(action):
    for key in ("name", "description", "inputs", "outputs", "runs"):
        if key not in action:
            fail(f"no `{key}`")
    if action["runs"].get("using") != "composite":
        fail("runs.using is not composite")
    inputs = action["inputs"]
    steps = action["runs"]["steps"]
    ids = {s.get("id") for s in steps if s.get("id")}
    text = yaml.safe_dump(action)
    for name in re.findall(r"inputs\.([A-Za-z0-9_-]+)", text):
        if name not in inputs:
            fail(f"inputs.{name} is used but not declared")
    for name in inputs:
        if f"inputs.{name}" not in text:
            fail(f"input `{name}` is declared but never used")
    for i, s in enumerate(steps):
        if "run" in s and "shell" not in s:
            fail(f"step {i} ({s.get('name')}) runs a command without `shell`")
        if "run" not in s and "uses" not in s:
            fail(f"step {i} neither runs nor uses")
    for name, out in action["outputs"].items():
        m = re.search(r"steps\.([A-Za-z0-9_-]+)\.outputs", out.get("value", ""))
        if not m or m.group(1) not in ids:
            fail(f"output `{name}` does not map to a step output")


def check_other_files():
    """The GitLab template and the workflows: valid YAML, and the template runs the script."""
    with open(os.path.join(ROOT, "ci", "touchstone.gitlab-ci.yml")) as f:
        job = yaml.safe_load(f)[".touchstone"]
    if not any("ci/touchstone-ci.sh" in line for line in job["script"]):
        fail("ci/touchstone.gitlab-ci.yml does not run ci/touchstone-ci.sh")
    if job["artifacts"]["reports"]["junit"] != "touchstone-report/junit.xml":
        fail("ci/touchstone.gitlab-ci.yml does not report junit.xml")
    for folder in (os.path.join(ROOT, "examples", "ci"), os.path.join(ROOT, ".github", "workflows")):
        for name in sorted(os.listdir(folder)):
            if name.endswith(".yml"):
                with open(os.path.join(folder, name)) as f:
                    wf = yaml.safe_load(f)
                if "jobs" not in wf:
                    fail(f"{folder}/{name}: no jobs")


def evaluate(expr, ctx):
    """The few expression forms the action uses."""
    if expr.startswith("inputs."):
        return ctx["inputs"][expr[len("inputs."):]]
    if expr == "runner.temp":
        return ctx["runner_temp"]
    if expr == "github.action_path":
        return ROOT
    m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
    if m:
        return ctx["outputs"].get(m.group(1), {}).get(m.group(2), "")
    fail(f"cannot evaluate `${{{{ {expr} }}}}` here")


def substitute(value, ctx):
    return EXPR.sub(lambda m: str(evaluate(m.group(1), ctx)), str(value))


def condition(expr, ctx):
    expr = EXPR.sub(lambda m: m.group(1), expr)
    parts = [p.strip() for p in expr.split("&&")]
    for p in parts:
        if p == "always()":
            continue
        m = re.fullmatch(r"inputs\.([\w-]+)\s*!=\s*''", p)
        if m:
            if ctx["inputs"][m.group(1)] == "":
                return False
            continue
        fail(f"cannot evaluate the condition `{p}` here")
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--expect-status", type=int)
    args = ap.parse_args()
    with open(os.path.join(ROOT, "action.yml")) as f:
        action = yaml.safe_load(f)
    check_structure(action)
    check_other_files()

    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    for pair in args.input:
        name, _, value = pair.partition("=")
        if name not in inputs:
            fail(f"--input {name}: no such input")
        inputs[name] = value
    work = tempfile.mkdtemp(prefix="touchstone-action-")
    ctx = {"inputs": inputs, "runner_temp": work, "outputs": {}}
    summary = os.path.join(work, "step-summary.md")
    status = 0
    for s in action["runs"]["steps"]:
        name = s.get("name", "")
        if "if" in s and not condition(str(s["if"]), ctx):
            print(f"-- {name}: skipped (condition)")
            continue
        if "uses" in s:
            print(f"-- {name}: {s['uses']} (GitHub's own; not run here)")
            continue
        if status != 0 and "always()" not in str(s.get("if", "")):
            continue
        output = os.path.join(work, f"output-{s.get('id', 'step')}")
        open(output, "w").close()
        env = dict(os.environ)
        env.update({k: substitute(v, ctx) for k, v in (s.get("env") or {}).items()})
        if "TOUCHSTONE_BIN" in os.environ:
            env["TOUCHSTONE_BIN"] = os.environ["TOUCHSTONE_BIN"]
        env.update({
            "GITHUB_ACTION_PATH": ROOT,
            "RUNNER_TEMP": work,
            "GITHUB_OUTPUT": output,
            "GITHUB_STEP_SUMMARY": summary,
        })
        script = substitute(s["run"], ctx)
        if name == "Build touchstone" and "TOUCHSTONE_BIN" in os.environ:
            # The binary under test is given: put it where the step looks for it.
            os.makedirs(os.path.join(work, "touchstone-bin", "bin"), exist_ok=True)
            os.symlink(os.environ["TOUCHSTONE_BIN"], os.path.join(work, "touchstone-bin", "bin", "touchstone"))
        print(f"-- {name}")
        rc = subprocess.call(["bash", "-e", "-c", script], env=env)
        outs = {}
        with open(output) as f:
            for line in f:
                if "=" in line:
                    k, _, v = line.rstrip("\n").partition("=")
                    outs[k] = v
        if s.get("id"):
            ctx["outputs"][s["id"]] = outs
        if rc != 0:
            print(f"-- {name}: exit {rc}")
            status = rc
    results = {k: substitute(v["value"], ctx) for k, v in action["outputs"].items()}
    print(f"outputs: {results}")
    if os.path.exists(summary):
        print(f"job summary: {os.path.getsize(summary)} bytes")
    if args.expect_status is not None and status != args.expect_status:
        print(f"expected the action to end with {args.expect_status}, it ended with {status}", file=sys.stderr)
        sys.exit(1)
    if args.expect_status is not None:
        sys.exit(0)
    sys.exit(status)


if __name__ == "__main__":
    main()
