"""The checkpointing choice as code to paste is in the Markdown and HTML reports too (it was only
in ``netscope check``'s text and the JSON), and the pasted code runs on the real model."""

from __future__ import annotations

import html
import re
from pathlib import Path

from netscope.engine.api import take_snapshot
from netscope.engine.options import LoadOptions
from netscope.report.html import render_html
from netscope.report.markdown import render_markdown
from tests.engine.plan.plan_models import write


def test_markdown_and_html_reports_show_the_checkpoint_snippet(tmp_path: Path) -> None:
    path = write(tmp_path)
    options = LoadOptions(
        path, train=True, optimizer="adamw", fit="2x1GiB", shard="fsdp", checkpoint="1,3"
    )
    snapshot = take_snapshot(options)
    assert snapshot.fit is not None
    code = snapshot.fit.checkpoint_code
    assert "apply_activation_checkpointing(" in code
    fenced = re.search(r"```python\n(.*?)```", render_markdown(snapshot), re.S)
    assert fenced is not None and fenced.group(1) == code
    block = re.search(r"<pre><code>(.*?)</code></pre>", render_html(snapshot), re.S)
    assert block is not None and html.unescape(block.group(1)) == code
    namespace: dict[str, object] = {}
    exec(Path(path).read_text(), namespace)
    model = namespace["build_model"]()  # type: ignore[operator]
    exec(code, {"model": model})  # as a user pastes it from the report
    wrapped = [n for n, m in model.named_modules() if type(m).__name__ == "CheckpointWrapper"]
    assert wrapped == ["1", "3"]
