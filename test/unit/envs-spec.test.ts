/** Environment specs: conda-style environment.yaml and requirement lists, to PEP 508 for uv. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { AtriumError } from "../../src/errors.js";
import { deriveEnvironments, inlineSpec } from "../../src/model/environments.js";
import {
  BuildFailure,
  binaryArgs,
  buildEnv,
  explainResolution,
  lockPackages,
  requirementLines,
} from "../../src/services/envs/builder.js";
import {
  parseSpecification,
  pythonProblem,
  SpecError,
  satisfies,
  withPlatformPackages,
} from "../../src/services/envs/spec.js";

function problems(text: string): string[] {
  try {
    parseSpecification(text);
  } catch (err) {
    if (err instanceof SpecError) return err.problems;
    throw err;
  }
  assert.fail("the spec was accepted");
}

describe("environment.yaml", () => {
  it("turns conda dependencies and the pip list into requirements, and reads python", () => {
    const spec = parseSpecification(
      [
        "name: analytics",
        "channels: [conda-forge]",
        "dependencies:",
        "  - python=3.11",
        "  - numpy=1.26",
        "  - pandas >=2, <3",
        "  - scipy 1.11.*",
        "  - matplotlib",
        "  - pip",
        "  - pip:",
        "    - seaborn==0.13.2",
        "    - humanize",
      ].join("\n"),
    );
    assert.equal(spec.name, "analytics");
    assert.equal(spec.format, "environment.yaml");
    assert.equal(spec.python, "==3.11.*");
    assert.deepEqual(spec.requirements, [
      "numpy==1.26.*",
      "pandas>=2,<3",
      "scipy==1.11.*",
      "matplotlib",
      "pip",
      "seaborn==0.13.2",
      "humanize",
    ]);
    assert.deepEqual(spec.notes, []);
  });

  it("drops conda build strings and other channels with a note", () => {
    const spec = parseSpecification(
      "dependencies:\n  - numpy=1.26.4=py311h64a7726_0\n  - six\nchannels: [pytorch, defaults]\n",
    );
    assert.deepEqual(spec.requirements, ["numpy==1.26.4.*", "six"]);
    assert.deepEqual(spec.notes, [
      "channels pytorch ignored: packages come from PyPI",
      'build string "py311h64a7726_0" of numpy ignored (conda-only)',
    ]);
  });

  it("refuses conda-only packages, saying a conda backend is needed", () => {
    assert.deepEqual(problems("dependencies:\n  - cudatoolkit=11.8\n  - r-base\n  - conda-forge::numpy\n"), [
      'dependencies[0]: "cudatoolkit" is a conda package that is not on PyPI: it needs a conda backend, which Atrium does not provide yet; leave it out or use a PyPI package instead',
      'dependencies[1]: "r-base" is a conda package that is not on PyPI: it needs a conda backend, which Atrium does not provide yet; leave it out or use a PyPI package instead',
      'dependencies[2]: "conda-forge::numpy" names a conda channel: it needs a conda backend, which Atrium does not provide yet; use a PyPI package',
    ]);
  });

  it("reports every problem at once", () => {
    assert.deepEqual(problems("name: x\ndependencies: numpy\nbuild: 3\n"), [
      'unknown key "build" (environment.yaml has name, channels, dependencies)',
      "dependencies must be a list",
    ]);
    assert.deepEqual(problems("dependencies:\n  - pip:\n    - -r requirements.txt\n    - ./local\n  - 3\n"), [
      'dependencies[0].pip[0]: "-r requirements.txt" is not one requirement: options (-r, -c, -e, -f, --index-url, ...) are not allowed; list packages only; packages come from the package index',
      'dependencies[0].pip[1]: "./local" is a local path: local files can\'t be installed; use packages from the package index (PyPI)',
      "dependencies[1]: 3 is not a package",
    ]);
  });

  it("refuses an entry that holds more than one requirement, naming the entry", () => {
    const smuggled = "tabulate\n--no-binary evil\n--find-links /tmp/planted\nevil";
    const why =
      '"tabulate\\n--no-binary evil\\n--find-links /tmp/planted\\nevil" is not one requirement: it holds a line break or another control character; give each package its own entry';
    assert.deepEqual(
      problems(stringify({ name: "x", dependencies: ["six", { pip: ["humanize", smuggled] }] })),
      [`dependencies[1].pip[1]: ${why}`],
    );
    assert.deepEqual(problems(stringify({ dependencies: [smuggled] })), [`dependencies[0]: ${why}`]);
    assert.deepEqual(problems(stringify(["six", smuggled])), [`requirements[1]: ${why}`]);
    assert.deepEqual(problems(stringify({ dependencies: [{ pip: ["six\n-r /srv/other/lock.txt"] }] })), [
      'dependencies[0].pip[0]: "six\\n-r /srv/other/lock.txt" is not one requirement: it holds a line break or another control character; give each package its own entry',
    ]);
    assert.deepEqual(
      problems(stringify({ dependencies: [{ pip: ["pkg @ https://x.example/pkg.tar.gz"] }] })),
      [
        'dependencies[0].pip[0]: "pkg @ https://x.example/pkg.tar.gz" is a direct URL reference (name @ URL): environments install packages from the package index only; name a version instead, e.g. pkg==1.2',
      ],
    );
  });
});

describe("requirement lists", () => {
  it("reads one requirement per line, with comments", () => {
    const spec = parseSpecification(
      "# tools\nsix\ntomli>=2 ; python_version < '3.11'  # for old Pythons\n\n",
    );
    assert.equal(spec.format, "requirements");
    assert.equal(spec.name, undefined);
    assert.deepEqual(spec.requirements, ["six", 'tomli>=2; python_version < "3.11"']);
  });

  it("reads a YAML list", () => {
    assert.deepEqual(parseSpecification("- six\n- humanize==4.*\n").requirements, ["six", "humanize==4.*"]);
  });

  it("refuses options, paths and version control URLs", () => {
    assert.deepEqual(
      problems("six\n--index-url https://evil.example/simple\n-e .\ngit+https://x.example/y.git\n"),
      [
        'line 2: "--index-url https://evil.example/simple" is not one requirement: options (-r, -c, -e, -f, --index-url, ...) are not allowed; list packages only; packages come from the package index',
        'line 3: "-e ." is not one requirement: options (-r, -c, -e, -f, --index-url, ...) are not allowed; list packages only; packages come from the package index',
        'line 4: "git+https://x.example/y.git" is a URL: environments install packages from the package index only; name the package and its version instead, e.g. pkg==1.2',
      ],
    );
    assert.deepEqual(problems("pkg @ file:///etc/passwd\n"), [
      'line 1: "pkg @ file:///etc/passwd" is a direct URL reference (name @ URL): environments install packages from the package index only; name a version instead, e.g. pkg==1.2',
    ]);
    // A backslash continuation is not followed: each line is one requirement or a problem.
    assert.deepEqual(problems("six \\\n--find-links /tmp/x\n"), [
      'line 1: "six \\\\" is not a requirement (PEP 508): expected a version, ";" and a marker, or the end at column 5, found "\\\\"; write one package per entry, e.g. pandas>=2,<3 or requests[socks]==2.32.*; python_version >= "3.10"',
      'line 2: "--find-links /tmp/x" is not one requirement: options (-r, -c, -e, -f, --index-url, ...) are not allowed; list packages only; packages come from the package index',
    ]);
    assert.deepEqual(problems("   \n# nothing\n"), ["the specification lists no packages"]);
    assert.deepEqual(problems("  \n"), ["the specification is empty"]);
  });
});

describe("python", () => {
  it("compares versions with PEP 440 specifiers", () => {
    assert.equal(satisfies("3.11.2", "==3.11.*"), true);
    assert.equal(satisfies("3.11.2", "==3.12.*"), false);
    assert.equal(satisfies("3.11.2", ">=3.10,<3.13"), true);
    assert.equal(satisfies("3.11.2", ">=3.12"), false);
    assert.equal(satisfies("3.11.2", "~=3.10"), true);
    assert.equal(satisfies("3.11.2", "==3.11.2"), true);
    assert.equal(satisfies("3.11.2", "!=3.11.*"), false);
  });

  it("refuses a Python other than the system's, clearly", () => {
    const ok = parseSpecification("dependencies:\n  - python=3.11\n  - six\n");
    assert.equal(pythonProblem(ok, "3.11.2", "/usr/bin/python3"), undefined);
    const other = parseSpecification("dependencies:\n  - python=3.12\n  - six\n");
    assert.equal(
      pythonProblem(other, "3.11.2", "/usr/bin/python3"),
      "python==3.12.* is not available: environments are built on the system Python 3.11.2 (/usr/bin/python3); " +
        "ask for python=3.11 or leave python out (other Python versions need a conda backend, which Atrium does not provide yet)",
    );
    assert.equal(pythonProblem(parseSpecification("six\n"), "3.11.2", "/usr/bin/python3"), undefined);
  });
});

describe("what is built", () => {
  it("adds ipykernel and distributed, and pins dask and distributed to the platform's", () => {
    assert.deepEqual(withPlatformPackages(["six"], { distributed: "2026.8.0", dask: "2026.8.0" }), {
      requirements: ["six", "ipykernel", "distributed"],
      constraints: ["dask==2026.8.0", "distributed==2026.8.0"],
    });
    assert.deepEqual(withPlatformPackages(["IPyKernel>=6", "distributed"], {}).requirements, [
      "IPyKernel>=6",
      "distributed",
    ]);
  });

  it("explains uv's resolution errors", () => {
    assert.equal(
      explainResolution(
        "  × No solution found when resolving dependencies:\n  ╰─▶ Because atrium-no-such-pkg was not found in the package registry and you require atrium-no-such-pkg, we can conclude that your requirements are unsatisfiable.\n",
      ),
      '"atrium-no-such-pkg" was not found on PyPI; if it is a conda package, it needs a conda backend, which Atrium does not provide yet',
    );
    assert.equal(
      explainResolution("Because oldpkg==0.1 has no usable wheels and building from source is disabled"),
      "oldpkg has no wheel for this machine, and environments are built from wheels only",
    );
  });

  it("tells uv wheels only, except the packages the admin allows, and reads no uv config", () => {
    assert.deepEqual(binaryArgs([]), ["--only-binary", ":all:"]);
    assert.deepEqual(binaryArgs(["pyyaml"]), ["--only-binary", ":all:", "--no-binary", "pyyaml"]);
    const env = buildEnv(
      { HTTPS_PROXY: "http://proxy:3128", UV_FIND_LINKS: "/tmp/x", UV_NO_BINARY: "x" },
      "/c",
    );
    assert.equal(env.UV_NO_CONFIG, "1");
    assert.equal(env.UV_NO_BUILD, "1");
    assert.equal(env.UV_CACHE_DIR, "/c");
    assert.equal(env.HTTPS_PROXY, "http://proxy:3128");
    assert.equal(env.UV_FIND_LINKS, undefined);
    assert.equal(env.UV_NO_BINARY, undefined);
    assert.equal(buildEnv({}, "/c", ["pyyaml"]).UV_NO_BUILD, undefined);
  });

  it("re-parses stored requirements, so a build queued before the parser can't pass options", () => {
    assert.deepEqual(requirementLines(["six", "tomli>=2 ; python_version<'3.11'"]), [
      "six",
      'tomli>=2; python_version < "3.11"',
    ]);
    assert.throws(
      () => requirementLines(["six", "tabulate\n--no-binary evil\n--find-links /tmp/x"]),
      (err: Error) =>
        err instanceof BuildFailure && /is not one requirement: it holds a line break/.test(err.message),
    );
  });

  it("lists the locked packages", () => {
    const lock =
      "six==1.17.0 \\\n    --hash=sha256:ab\n    # via x\nhumanize==4.17.0 \\\n    --hash=sha256:cd\n";
    assert.deepEqual(lockPackages(lock), ["humanize==4.17.0", "six==1.17.0"]);
  });
});

describe("environments declared in atrium.yaml", () => {
  it("become environment.yaml specs the service reads back as written", () => {
    const text = inlineSpec({
      name: "analytics",
      namespace: "global",
      python: "3.11",
      dependencies: ["pandas>=2", "matplotlib"],
      pip: ["seaborn"],
    });
    const spec = parseSpecification(text ?? "");
    assert.equal(spec.name, "analytics");
    assert.equal(spec.python, "==3.11.*");
    assert.deepEqual(spec.requirements, ["pandas>=2", "matplotlib", "seaborn"]);
  });

  it("name the file they could not read", () => {
    assert.throws(
      () =>
        deriveEnvironments(
          [
            { name: "ok", namespace: "team", dependencies: [], pip: [] },
            { name: "ml", namespace: "team", file: "envs/ml.yaml", dependencies: [], pip: [] },
          ],
          "/nonexistent/conf",
        ),
      (err: unknown) =>
        err instanceof AtriumError &&
        err.code === "file-not-found" &&
        err.message === "environments[1].file (team/ml): can't read /nonexistent/conf/envs/ml.yaml (ENOENT)",
    );
  });
});
