"""Build the course site into _build/html (placeholder until the book issue lands)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "html"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page = OUT / "index.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>ELBO, VAEs e geometria do KL</title></head>"
        "<body><h1>ELBO, VAEs e a geometria do KL / ELBO, VAEs and the geometry of KL</h1>"
        "<p>O livro está em construção. / The book is under construction.</p></body></html>",
        encoding="utf-8",
    )
    print(f"Site built: open {page}")


if __name__ == "__main__":
    main()
