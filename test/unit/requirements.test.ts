/** PEP 508 requirements: the one grammar every spec entry and config entry must follow. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCondaDependency, parsePipEntry } from "../../src/requirements/conda.js";
import { formatRequirement, parseRequirement } from "../../src/requirements/pep508.js";

/** The re-written requirement, or "problem: <message>". */
function read(text: string): string {
  const r = parseRequirement(text);
  return "problem" in r ? `problem: ${r.problem.message}` : formatRequirement(r.requirement);
}

describe("PEP 508 requirements", () => {
  it("accepts names, extras, version sets and markers, and re-writes them in one form", () => {
    const cases: Array<[string, string]> = [
      ["numpy", "numpy"],
      ["  scikit-learn  ", "scikit-learn"],
      ["zope.interface>=5", "zope.interface>=5"],
      ["pandas >= 2, < 3", "pandas>=2,<3"],
      ["pandas (>=2,<3)", "pandas>=2,<3"],
      ["requests[socks, security]==2.32.*", "requests[socks,security]==2.32.*"],
      ["dask[]", "dask"],
      ["humanize~=4.9", "humanize~=4.9"],
      ["torch==2.3.0+cpu", "torch==2.3.0+cpu"],
      ["black==24.1b1", "black==24.1b1"],
      ["pkg===weird-1", "pkg===weird-1"],
      ["pkg!=1.0.post2.dev3", "pkg!=1.0.post2.dev3"],
      ["tomli>=2 ; python_version < '3.11'", 'tomli>=2; python_version < "3.11"'],
      [
        "pywin32; sys_platform == 'win32' and (platform_machine=='x86' or platform_machine == \"AMD64\")",
        'pywin32; sys_platform == "win32" and (platform_machine == "x86" or platform_machine == "AMD64")',
      ],
      ["six;'linux' in sys_platform", 'six; "linux" in sys_platform'],
      ["six ; python_version not  in '2.7,3.5'", 'six; python_version not in "2.7,3.5"'],
    ];
    for (const [given, written] of cases) assert.equal(read(given), written, given);
  });

  it("refuses line breaks, options, paths and URLs, each with its reason", () => {
    assert.equal(
      read("tabulate\n--no-binary evil\n--find-links /tmp/x\nevil"),
      'problem: "tabulate\\n--no-binary evil\\n--find-links /tmp/x\\nevil" is not one requirement: it holds a line break or another control character',
    );
    assert.equal(
      read("six\r"),
      'problem: "six\\r" is not one requirement: it holds a line break or another control character',
    );
    for (const option of [
      "-r /etc/shadow",
      "-e .",
      "-c constraints.txt",
      "-f /tmp/wheels",
      "--index-url https://x",
    ]) {
      assert.match(
        read(option),
        /is not one requirement: options \(-r, -c, -e, -f, --index-url, \.\.\.\) are not allowed$/,
      );
    }
    assert.equal(read("./local"), 'problem: "./local" is a local path: local files can\'t be installed');
    assert.equal(
      read("file:///srv/pkg"),
      'problem: "file:///srv/pkg" is a local path: local files can\'t be installed',
    );
    assert.equal(
      read("git+https://x.example/y.git"),
      'problem: "git+https://x.example/y.git" is a URL: environments install packages from the package index only',
    );
    assert.equal(
      read("pkg @ https://x.example/pkg-1.0.tar.gz"),
      'problem: "pkg @ https://x.example/pkg-1.0.tar.gz" is a direct URL reference (name @ URL): environments install packages from the package index only',
    );
    assert.equal(
      read("pkg[x]@file:///etc/passwd"),
      'problem: "pkg[x]@file:///etc/passwd" is a direct URL reference (name @ URL): environments install packages from the package index only',
    );
  });

  it("refuses what is not the grammar, saying where", () => {
    const cases: Array<[string, string]> = [
      [
        "six --hash=sha256:00",
        'expected a version, ";" and a marker, or the end at column 5, found "--hash=sha25"',
      ],
      ["six 1.0", 'expected a version, ";" and a marker, or the end at column 5, found "1.0"'],
      ["pandas>=", "expected a version at column 9, found the end"],
      ["pandas>=2,", "expected a version comparison (==, >=, <, ~=, ...) at column 11, found the end"],
      ["pandas>=two", '"two" is not a version (PEP 440) for >='],
      ["pandas>=2.*", "a trailing .* is allowed only with == and !="],
      ["pandas~=2", "~= needs at least two parts, e.g. ~=2.0"],
      ["req[extra", 'expected "," or "]" at column 10, found the end'],
      [
        "six; python_version",
        "expected a marker comparison (==, <, in, not in, ...) at column 20, found the end",
      ],
      [
        "six; home == '/root'",
        'expected a marker variable (python_version, sys_platform, ...) or a quoted string at column 6, found "home == \'/ro"',
      ],
      [
        "six; python_version == '3 #'",
        'the marker string "3 #" may hold only letters, digits and . _ * + ! ~ , : / -',
      ],
      [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: uv expands ${VAR} in requirements files
        "six; python_version == '${HOME}'",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the same text, quoted back
        'the marker string "${HOME}" may hold only letters, digits and . _ * + ! ~ , : / -',
      ],
      ["six; python_version == '3.11", "expected a closing ' at column 24, found \"'3.11\""],
      ["_bad", 'expected a package name at column 1, found "_bad"'],
      ["", "expected a package name at column 1, found the end"],
      ["six\u00a0", 'expected a version, ";" and a marker, or the end at column 4, found "\u00a0"'],
    ];
    for (const [given, why] of cases) {
      assert.equal(
        read(given),
        `problem: ${JSON.stringify(given)} is not a requirement (PEP 508): ${why}`,
        given,
      );
    }
  });
});

describe("pip entries and conda dependencies", () => {
  it("refuses conda-only packages in either form", () => {
    for (const r of [parsePipEntry("cudatoolkit==11.8"), parseCondaDependency("cudatoolkit=11.8", [])]) {
      assert.ok("problem" in r);
      assert.equal(
        r.problem.message,
        '"cudatoolkit" is a conda package that is not on PyPI: it needs a conda backend, which Atrium does not provide yet',
      );
    }
  });

  it("turns conda match specs into requirements and refuses smuggled lines", () => {
    const notes: string[] = [];
    const conda = (dep: string) => {
      const r = parseCondaDependency(dep, notes);
      return "problem" in r ? `problem: ${r.problem.message}` : formatRequirement(r.requirement);
    };
    assert.equal(conda("numpy"), "numpy");
    assert.equal(conda("numpy==1.26.4"), "numpy==1.26.4");
    assert.equal(conda("numpy >= 1.2"), "numpy>=1.2");
    assert.equal(conda("numpy 1.26"), "numpy==1.26.*");
    assert.equal(conda("scikit-learn=1.5.*"), "scikit-learn==1.5.*");
    assert.equal(conda("pandas >=2, <3"), "pandas>=2,<3");
    assert.deepEqual(notes, []);
    assert.equal(conda("numpy=1.26.4=py311h64a7726_0"), "numpy==1.26.4.*");
    assert.deepEqual(notes, ['build string "py311h64a7726_0" of numpy ignored (conda-only)']);
    assert.equal(
      conda("numpy\n--find-links /tmp/x"),
      'problem: "numpy\\n--find-links /tmp/x" is not one requirement: it holds a line break or another control character',
    );
    assert.equal(
      conda("-r /etc/shadow"),
      `problem: "-r /etc/shadow" is not one requirement: options (-r, -c, -e, -f, --index-url, ...) are not allowed`,
    );
    assert.equal(
      conda("numpy >=one"),
      'problem: "numpy >=one" is not a package with a version (conda match spec)',
    );
    assert.match(conda("numpy[version='>=1']"), /bracket syntax/);
    assert.match(conda("conda-forge::numpy"), /names a conda channel/);
  });
});
