#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# test-template-jinja.py: vagent's "## template: jinja" renderer (cc-template.c, through
# tests/template-render) against the real jinja2 set up as cloud-init sets it up
# (templater.py: SandboxedEnvironment, trim_blocks, an Undefined printing
# CI_MISSING_JINJA_VAR/name, the header line removed, the trailing newline put back; the
# variables as convert_jinja_instance_data makes them, v1's keys copied to the top level).
# Every template vagent renders must render byte for byte as in cloud-init; every construct
# vagent refuses is refused with its line (never rendered differently).
import os
import subprocess
import sys

from tap import done, ok

DEBIAN_PYTHON = "/usr/bin/python3"  # where python3-jinja2 (.ci/packages) installs it

try:
    from jinja2 import DebugUndefined
    from jinja2.sandbox import SandboxedEnvironment
except ImportError:
    # The python3 found first (a pyenv, a venv) may not see Debian's packages: try Debian's.
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and \
            os.access(DEBIAN_PYTHON, os.X_OK) and not os.environ.get("VAGENT_JINJA_REEXEC"):
        os.environ["VAGENT_JINJA_REEXEC"] = "1"
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    print("1..0 # SKIP python3-jinja2 is not installed")
    sys.exit(77)

HELPER = os.path.join(os.environ.get("top_builddir", "."), "tests", "template-render")


class Missing(DebugUndefined):
    def __str__(self):
        return "CI_MISSING_JINJA_VAR/%s" % self._undefined_name


V1 = {"instance_id": "7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34", "local_hostname": "web-1",
      "region": "de", "cloud_name": "vultr", "cloud_id": "vultr", "platform": "vultr",
      "availability_zone": None}
PARAMS = dict(V1, v1=V1, ds={"meta_data": {"hostname": "web-1", "instanceid": "61234567",
                                          "instance_id": V1["instance_id"],
                                          "local_hostname": "web-1", "region": "de"}})


def cloud_init(text):
    ident, rest = text.split("\n", 1) if "\n" in text else (text, "")
    add = "\n" if rest.endswith("\n") else ""
    env = SandboxedEnvironment(undefined=Missing, trim_blocks=True, extensions=["jinja2.ext.do"])
    return env.from_string(rest).render(**PARAMS) + add


def vagent(text):
    p = subprocess.run([HELPER], input=text.encode(), capture_output=True, check=False)
    return p.returncode, p.stdout.decode(errors="replace")


H = "## template: jinja\n"
SAME = [
    H + "#cloud-config\nhostname: h-{{ v1.region }}\nruncmd: [echo {{ v1.instance_id }}]\n",
    H + "{{v1.local_hostname}} {{  v1.region  }} {{ v1 . cloud_name }} {{ v1.platform }} "
        "{{ v1.availability_zone }} {{ instance_id }} {{ cloud_id }}",
    H + "{{ ds.meta_data.hostname }}/{{ ds.meta_data.instanceid }}/{{ ds.meta_data.region }}\n",
    H + "a {# a comment\nover lines #}\nb {#- trimmed -#}   c\nd   {{- v1.region -}}   e\n",
    H + "{{ nosuch }} {{ v1.nope }} {{ ds.meta_data.absent }} {{ v1.region.upper_x }}\n",
    H + "{ not a tag } {x} }} %} #} {\n",
    H + "x {# c #}  \ny\n{# c #}\r\nz\n\n\n",
    H + "{{ ds.meta_data.hostname }}\n{{- v1.region }}\n  {{- v1.region }}\n",
    H + "no newline at the end {{ v1.region }}",
    H + "{#- c -#}\n\n  x\n",
    "## Template: JINJA\r\n{{ v1.region }}\r\n",
    H + "x {{ v1.region -}}\n",
    H + "{# c #}\n",
    H + "a\r",
    H + "a\rb\r\nc{# x #}\r\rd\n",
    H,
    "## template: jinja",
    H + "\n",
    H + "{{ v1.region }}{# x -#}  \n\n y\n",
]
for t in SAME:
    rc, got = vagent(t)
    want = cloud_init(t)
    ok(rc == 0 and got == want, "as cloud-init renders it: %r" % t[len(H):][:60],
       ["jinja2: %r" % want, "vagent: %r (exit %d)" % (got, rc)])

# Refused by vagent (the whole user data, one line naming the construct and where it is).
REFUSED = [
    (H + "#cloud-config\n{% if v1.region == 'de' %}\nx: 1\n{% endif %}\n", 3),
    (H + "{{ v1.region | upper }}", 2),
    (H + "\n{{ v1['region'] }}", 3),
    (H + "{{ range(3) }}", 2),
    (H + "{{ nosuch.key }}", 2),
]
for t, line in REFUSED:
    rc, got = vagent(t)
    ok(rc == 1 and got.startswith("ERROR line %d: " % line),
       "refused at line %d: %r" % (line, t[len(H):][:40]), ["vagent: %r" % got])
done()
