"""Helpers for tests over real sockets: the app under uvicorn on a free localhost port, in
the test's event loop (so it shares the test's ORM context and database), and a
graphql-transport-ws client spoken by hand."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


@dataclass(frozen=True)
class LiveServer:
    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@contextlib.asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[LiveServer]:
    """Run ``app`` under uvicorn (lifespan included) until the block ends."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    # Not server.serve(): it would take over the process's signal handlers.
    config.load()
    server.lifespan = config.lifespan_class(config)
    task = asyncio.create_task(_run(server))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn did not start")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield LiveServer(port)
    finally:
        server.should_exit = True
        await task


async def _run(server: uvicorn.Server) -> None:
    await server.startup()
    if server.should_exit:
        return
    await server.main_loop()
    await server.shutdown()


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code} {reason}")
        self.code = code
        self.reason = reason


class TransportWS:
    """graphql-transport-ws by hand: connection_init / connection_ack, subscribe, next,
    error, complete."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, within: float = 5.0) -> dict[str, Any]:
        try:
            raw = await asyncio.wait_for(self.socket.recv(), within)
        except Exception as error:
            closed = _closed(error)
            if closed is None:
                raise
            raise closed from None
        # graphql-transport-ws messages are text frames.
        assert isinstance(raw, str), f"a binary frame: {raw!r}"
        message: dict[str, Any] = json.loads(raw)
        return message

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.receive()

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def complete(self, operation_id: str) -> None:
        await self.send({"id": operation_id, "type": "complete"})

    async def next_data(self, operation_id: str, within: float = 5.0) -> dict[str, Any]:
        """The data of the operation's next ``next`` message (its errors fail the test)."""
        message = await self.receive(within)
        assert message.get("id") == operation_id and message["type"] == "next", message
        assert not message["payload"].get("errors"), message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def silent(self, within: float = 0.3) -> bool:
        """True when nothing arrives for ``within`` seconds."""
        try:
            message = await asyncio.wait_for(self.socket.recv(), within)
        except TimeoutError:
            return True
        raise AssertionError(f"expected silence, got {message!r}")

    async def closed(self, within: float = 5.0) -> Closed:
        """Wait for the server to close the socket."""
        try:
            message = await self.receive(within)
        except Closed as closed:
            return closed
        raise AssertionError(f"expected the socket to close, got {message!r}")


def _closed(error: Exception) -> Closed | None:
    from websockets.exceptions import ConnectionClosed

    if isinstance(error, ConnectionClosed):
        rcvd = error.rcvd
        return Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "")
    return None


@contextlib.asynccontextmanager
async def websocket(
    server: LiveServer, *, subprotocols: tuple[str, ...] = (PROTOCOL,), **kwargs: Any
) -> AsyncIterator[TransportWS]:
    async with connect(
        server.ws_url,
        subprotocols=list(subprotocols),
        open_timeout=5,
        **kwargs,
    ) as socket:
        yield TransportWS(socket)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
