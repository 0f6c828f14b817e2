from __future__ import annotations


def test_demo_section_is_self_contained_html(ws, tmp_path):
    from chainbreaker.faces.reports.demo.people import run_demo

    out = run_demo(ws, tmp_path, "zh", n_people=600)
    assert out["title_zh"] and out["title_en"]
    html = out["html"]
    assert "<svg" in html and "滞留境外人员" in html and "团伙出行" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    assert "********" in html  # ID numbers masked
    en = run_demo(ws, tmp_path / "en", "en", n_people=600)["html"]
    assert "Stranded persons" in en
