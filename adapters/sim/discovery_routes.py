"""Minimal answers to the discovery calls a stock Binance client makes outside /api/v3.

A stock `ccxt.binance()` loads markets from spot, USD-M (/fapi) and COIN-M (/dapi) exchangeInfo
plus the cross and isolated margin pairs, and currencies from /sapi/v1/capital/config/getall;
fetch_status and fetch_trading_fee use /sapi.  The simulator trades spot only, so the futures
and margin answers list nothing, and the wallet answers
describe the simulator's own assets, balances and fees (deposits and withdrawals are off, as
`account` says).  Shapes follow Binance's documented responses.
"""

from __future__ import annotations

from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim.engine import Simulator
from adapters.sim.market_routes import Symbols

FUTURES_RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
]


class Discovery:
    """The /sapi, /fapi and /dapi stubs, answered from the simulator's markets and account."""

    def __init__(self, sim: Simulator, symbols: Symbols) -> None:
        self.sim = sim
        self.symbols = symbols
        self._markets = symbols.markets

    def system_status(self, params: dict[str, str]) -> Any:
        """GET /sapi/v1/system/status: 0 is normal, 1 system maintenance."""
        return {"status": 0, "msg": "normal"}

    def usdm_exchange_info(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/exchangeInfo: no USD-M futures here."""
        return {"timezone": "UTC", "serverTime": self.sim.server_time(),
                "futuresType": "U_MARGINED", "rateLimits": FUTURES_RATE_LIMITS,
                "exchangeFilters": [], "assets": [], "symbols": []}

    def coinm_exchange_info(self, params: dict[str, str]) -> Any:
        """GET /dapi/v1/exchangeInfo: no COIN-M futures here."""
        return {"timezone": "UTC", "serverTime": self.sim.server_time(),
                "rateLimits": FUTURES_RATE_LIMITS, "exchangeFilters": [], "symbols": []}

    def no_margin(self, params: dict[str, str]) -> Any:
        """GET /sapi/v1/margin/allPairs and margin/isolated/allPairs: no margin trading here."""
        return []

    def capital_config(self, params: dict[str, str]) -> Any:
        """GET /sapi/v1/capital/config/getall: every asset of the markets, one network each."""
        balances = self.sim.fetch_balance()
        return [_coin(asset, balances.get(asset, {})) for asset in sorted(balances)]

    def trade_fee(self, params: dict[str, str]) -> Any:
        """GET /sapi/v1/asset/tradeFee: the maker/taker rates of one symbol or of all."""
        chosen = self.symbols.many(params) or list(self._markets)
        return [{"symbol": self._markets[s]["id"],
                 "makerCommission": _rate(self._markets[s]["maker"]),
                 "takerCommission": _rate(self._markets[s]["taker"])} for s in chosen]


def _rate(value: float) -> str:
    return format(float(value), "f").rstrip("0").rstrip(".") or "0"


def _coin(asset: str, balance: dict[str, float]) -> dict[str, Any]:
    network = {
        "network": asset, "coin": asset, "name": asset, "isDefault": True,
        "depositEnable": False, "withdrawEnable": False, "depositDesc": "", "withdrawDesc": "",
        "specialTips": "", "minConfirm": 1, "unLockConfirm": 0, "addressRegex": "",
        "memoRegex": "", "withdrawFee": "0", "withdrawMin": "0", "withdrawMax": "0",
        "withdrawIntegerMultiple": "0.00000001", "sameAddress": False,
        "estimatedArrivalTime": 0, "busy": False, "contractAddressUrl": "",
        "contractAddress": "",
    }
    return {
        "coin": asset, "name": asset, "depositAllEnable": False, "withdrawAllEnable": False,
        "free": wire.num(balance.get("free")), "locked": wire.num(balance.get("used")),
        "freeze": "0", "withdrawing": "0", "ipoing": "0", "ipoable": "0", "storage": "0",
        "isLegalMoney": False, "trading": True, "networkList": [network],
    }
