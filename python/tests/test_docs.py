"""Every ```python block of docs/python.md runs, in order, in one namespace."""
import re

from conftest import SOURCE_DIR


def test_doc_python_blocks_run():
    text = (SOURCE_DIR / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 6
    namespace = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/python.md block {i + 1}", "exec"), namespace)
