"""riskwarn.toml with every department's capacity scaled from the sample's 20,000 subjects to N.

Usage: python3 benches/scaled_policy.py N OUT.toml
"""
import re
import sys

n, out = int(sys.argv[1]), sys.argv[2]
text = open("riskwarn.toml").read()
text = re.sub(r"^capacity = (\d+)$", lambda m: f"capacity = {int(m.group(1)) * n // 20000}", text, flags=re.M)
open(out, "w").write(text)
