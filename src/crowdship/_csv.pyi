"""Type stubs of the compiled module ``_csv.pyx``, for type checkers."""

from collections.abc import Container

import numpy as np
from numpy.typing import NDArray

def _powers_of_ten(low: int, high: int) -> list[tuple[int, int]]: ...
def plain_columns(
    data: bytes, number_columns: Container[str], text_columns: Container[str]
) -> dict[str, NDArray[np.float64] | list[str]] | None: ...
