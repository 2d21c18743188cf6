"""How `crm import-sales` cuts the file into requests: a batch holds at most `--batch-size` sales,
those refused before sending included, so that a long run of them is settled, and its rows written
to the reject file, as the file is read."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crm_cli import import_sales as import_module
from crm_cli.import_sales import Options, _at_known_stores, _batches, import_sales
from crm_cli.sales_file import SourceSale

REFUSED = "store_id: S999 is not one of the chain's stores"


def sales(count: int, pulled: list[int], refused_every: int = 1) -> Iterator[SourceSale]:
    """`count` sales, every `refused_every`th refused here (all by default), noting each read."""
    for i in range(count):
        pulled.append(i)
        if i % refused_every == 0:
            yield SourceSale(i + 1, [(i + 1, [f"T-{i}"])], None, REFUSED)
        else:
            yield SourceSale(i + 1, [(i + 1, [f"T-{i}"])], {"store_id": "S001", "pos_txn_id": f"T-{i}"})


def test_sales_refused_here_are_cut_into_batches_as_they_are_read() -> None:
    pulled: list[int] = []
    batches = _batches(sales(10_000, pulled), 100)
    first = next(batches)
    # Handed over once the next sale is read, not once the file is.
    assert len(first) == 100 and len(pulled) == 101
    rest = list(batches)
    assert [len(b) for b in rest] == [100] * 99
    assert [sale.line for batch in [first, *rest] for sale, _ in batch] == list(range(1, 10_001))


def test_a_batch_holds_batch_size_sales_sent_or_refused() -> None:
    pulled: list[int] = []
    batches = list(_batches(sales(1_000, pulled, refused_every=3), 50))
    assert [len(b) for b in batches] == [50] * 20
    assert all(text is None for b in batches for sale, text in b if sale.sale is None)


def test_one_sale_larger_than_a_request_may_carry_is_refused_and_the_rest_go_on() -> None:
    huge = SourceSale(2, [(2, ["T-big"])], {"store_id": "S001", "pos_txn_id": "T-big", "note": "备注" * 400_000})
    small = [SourceSale(n, [(n, [f"T-{n}"])], {"store_id": "S001", "pos_txn_id": f"T-{n}"}) for n in (1, 3)]
    [batch] = list(_batches(iter([small[0], huge, small[1]]), 100))
    assert [(sale.line, text is None) for sale, text in batch] == [(1, False), (2, True), (3, False)]
    assert huge.sale is None and huge.problem is not None and huge.problem.startswith("record: 2,400,")
    assert f"more than the {import_module.MAX_BATCH_BYTES:,} one sale may take" in huge.problem


class NoMembers(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing is sent: every sale is refused here")


async def test_a_file_of_sales_all_refused_here_is_settled_a_batch_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "sales.jsonl"
    path.write_text("".join(f'{{"store_id": "S999", "pos_txn_id": "U-{i}", "occurred_at": "2019-01-01T08:00:00+08:00", '
                            f'"total": "5.00"}}\n' for i in range(1_000)), encoding="utf-8")
    settled: list[int] = []
    settle = import_module._settle

    def noting(results, *args):
        settled.append(len(results))
        settle(results, *args)

    monkeypatch.setattr(import_module, "_settle", noting)
    options = Options(points="none", rejects=tmp_path / "rejects.csv", batch_size=40, progress=False,
                      stores=frozenset({"S001"}))
    async with httpx.AsyncClient(transport=NoMembers(), base_url="http://members") as client:
        summary = await import_sales(path, client, options)
    assert (summary.read, summary.rejected) == (1_000, 1_000)
    assert settled == [40] * 25
    assert len(options.rejects.read_text(encoding="utf-8-sig").splitlines()) == 1 + 1_000


def test_a_store_typed_in_full_width_mode_is_the_chain_s_store_it_reads_as() -> None:
    typed = [SourceSale(2, [(2, ["Ｓ００１"])], {"store_id": "Ｓ００１", "pos_txn_id": "T-1"}),
             SourceSale(3, [(3, ["Ｓ９９９"])], {"store_id": "Ｓ９９９", "pos_txn_id": "T-2"})]
    known, unknown = _at_known_stores(iter(typed), frozenset({"S001"}))
    assert (known.problem, known.sale) == (None, {"store_id": "Ｓ００１", "pos_txn_id": "T-1"})  # members reads it as S001
    assert unknown.sale is None and unknown.problem.startswith("store_id: S999 is not one of the chain's stores")
