"""Rules about text that hold for every field and query string."""

import re

# C0 control characters other than tab, newline and carriage return (NUL above all: PostgreSQL
# refuses it in text), plus DEL. Nobody types them; they arrive from pasted binary or from probes.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
