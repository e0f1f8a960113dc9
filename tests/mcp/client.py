"""The official MCP Python SDK (mcp 2.3.0) driving feria's MCP server as an AI host would:
over Streamable HTTP in the stateless revision (2026-07-28) and the legacy one (2025-11-25),
and over stdio (`feria mcp`). Run by tests/mcp/run.sh, which starts feria and passes:

  FERIA_URL        http://127.0.0.1:<port>
  FERIA_BIN        the feria binary (for stdio)
  FERIA_DATABASE   the DATABASE_URL feria serves (stdio opens the same database)
  OWNER_KEY        a default-store API key with every scope a key may hold
  READER_KEY       a default-store API key with catalog:read and orders:read only
  ORDER_NUMBER     an order placed by a guest, PENDING
  GUEST_EMAIL      that guest's email
  OWNER_EMAIL, OWNER_PASSWORD  the platform admin's sign-in (for the OAuth consent)
"""

import asyncio
import html
import os
import re
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from mcp.shared.exceptions import MCPError
from pydantic import AnyUrl

URL = os.environ["FERIA_URL"] + "/mcp"
CATALOG_TOOLS = [
    "get_products",
    "search_products_advanced",
    "get_product_details",
    "create_checkout",
    "get_checkout",
    "update_checkout",
    "complete_checkout",
    "cancel_checkout",
    "get_order_status",
]
AGENT = {"ucp-agent": {"profile": "https://agent.example/.well-known/ucp"}}
OWNER_TOOLS = {"get_business_stats", "sales_summary", "low_stock_report", "update_order_status", "update_stock", "refund_payment"}


def with_key(key):
    """A transport sending `key` as the bearer token."""
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return streamable_http_client(URL, http_client=client)


async def names(client):
    return [t.name for t in (await client.list_tools()).tools]


async def anonymous_shopper(mode, expected_version):
    async with Client(URL, mode=mode) as c:
        assert c.protocol_version == expected_version, c.protocol_version
        assert await names(c) == CATALOG_TOOLS, await names(c)
        # The SDK checks structuredContent against each tool's outputSchema.
        found = await c.call_tool("search_products_advanced", {"query": "vacio", "filters": {"inStock": True}, "limit": 3})
        assert not found.is_error, found
        assert found.structured_content["total"] >= 1, found.structured_content
        product = found.structured_content["products"][0]
        assert product["name"] in found.content[0].text and product["id"] in found.content[0].text, found.content
        listed = await c.call_tool("get_products", {"limit": 2, "page": 2})
        assert not listed.is_error and len(listed.structured_content["products"]) == 2, listed
        resources = [str(r.uri) for r in (await c.list_resources()).resources]
        assert resources == ["feria://store"], resources
        read = await c.read_resource(f"feria://products/{product['id']}")
        assert product["name"] in read.contents[0].text, read
        details = await c.call_tool("get_product_details", {"productId": product["id"]})
        assert details.structured_content["price"] == product["price"], details.structured_content
        status = await c.call_tool(
            "get_order_status", {"order": os.environ["ORDER_NUMBER"], "email": os.environ["GUEST_EMAIL"].upper()}
        )
        assert status.structured_content["status"] == "PENDING", status
        await guest_checkout(c, product)
        try:
            await c.call_tool("get_business_stats", {})
            raise AssertionError("an owner tool answered an anonymous caller")
        except MCPError:
            pass  # HTTP 401 with a Bearer challenge: a host without OAuth cannot go on
        print(f"  {mode}: {c.protocol_version}, {len(await names(c))} tools, search total {found.structured_content['total']}")


async def guest_checkout(c, product):
    """A guest buys through the UCP tools: priced, told what is missing, completed."""
    lines = [{"item": {"id": product["id"]}, "quantity": 2}]
    created = await c.call_tool("create_checkout", {"meta": AGENT, "checkout": {"line_items": lines}})
    session = created.structured_content
    assert session["status"] == "incomplete", session
    assert {m["path"] for m in session["messages"]} == {"$.buyer.email", "$.fulfillment"}, session["messages"]
    address = {"street_address": "Av. Santa Fe 1234", "address_locality": "CABA", "address_country": "AR"}
    checkout = {
        "line_items": lines,
        "buyer": {"first_name": "Eva", "email": "eva@example.com"},
        "fulfillment": {"methods": [{"type": "shipping", "destinations": [address]}]},
    }
    updated = await c.call_tool("update_checkout", {"meta": AGENT, "id": session["id"], "checkout": checkout})
    ready = updated.structured_content
    assert ready["status"] == "ready_for_complete", ready
    total = next(t["amount"] for t in ready["totals"] if t["type"] == "total")
    payment = {"payment": {"instruments": [{"id": "i1", "handler_id": "cash", "type": "cash", "selected": True}]}}
    done = await c.call_tool("complete_checkout", {"meta": dict(AGENT, **{"idempotency-key": session["id"]}), "id": session["id"], "checkout": payment})
    assert done.structured_content["status"] == "completed", done.structured_content
    assert done.structured_content["order"]["label"].startswith("ORD-"), done.structured_content
    print(f"  guest checkout {session['id']}: total {total} minor units, order {done.structured_content['order']['label']}")


async def owner_agent():
    async with Client(with_key(os.environ["OWNER_KEY"])) as c:
        tools = set(await names(c))
        assert OWNER_TOOLS - {"refund_payment"} <= tools, tools
        stats = await c.call_tool("get_business_stats", {})
        assert not stats.is_error and stats.structured_content["orders"] >= 1, stats
        low = await c.call_tool("low_stock_report", {"threshold": 1000})
        assert not low.is_error and low.structured_content["total"] >= 1, low
        moved = await c.call_tool("update_order_status", {"order": os.environ["ORDER_NUMBER"], "status": "CONFIRMED"})
        assert not moved.is_error and moved.structured_content["status"] == "CONFIRMED", moved
        print(f"  owner key: {len(tools)} tools, {stats.structured_content['orders']} orders, order confirmed")
    async with Client(with_key(os.environ["READER_KEY"]), mode="legacy") as c:
        assert "update_order_status" not in await names(c)
        refused = await c.call_tool("update_order_status", {"order": os.environ["ORDER_NUMBER"], "status": "PROCESSING"})
        assert refused.is_error and "orders:write" in refused.content[0].text, refused
        print("  reader key: refused update_order_status, naming orders:write")


class MemoryStorage:
    """The host's token and client storage."""

    def __init__(self):
        self.tokens, self.client = None, None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, client_info):
        self.client = client_info


class ScriptedOwner:
    """The browser and the shop owner: signs in on feria's page and approves the consent."""

    def __init__(self):
        self.browser = httpx2.AsyncClient(follow_redirects=False, timeout=30)
        self.result, self.consents = None, []

    @staticmethod
    def field(page, name):
        return html.unescape(re.search(f'name="{name}" value="([^"]*)"', page).group(1))

    async def redirect_handler(self, url):
        base = os.environ["FERIA_URL"]
        page = await self.browser.get(url)
        assert page.status_code == 200, page.text
        if 'action="/authorize/login"' in page.text:
            signed = await self.browser.post(
                base + "/authorize/login",
                data={"email": os.environ["OWNER_EMAIL"], "password": os.environ["OWNER_PASSWORD"], "query": self.field(page.text, "query")},
            )
            assert signed.status_code == 303, signed.text
            page = await self.browser.get(base + signed.headers["location"])
        assert "¿Autorizás a feria-ci?" in page.text and "127.0.0.1" in page.text, page.text
        scopes = re.findall(r"<code>([a-z]+:[a-z]+)</code>", page.text)
        self.consents.append(scopes)
        fields = {name: self.field(page.text, name) for name in ("query", "csrf")}
        answer = await self.browser.post(base + "/authorize/consent", data={**fields, "decision": "approve"})
        assert answer.status_code == 303, answer.text
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        self.result = AuthorizationCodeResult(code=query["code"][0], state=query["state"][0], iss=query.get("iss", [None])[0])

    async def callback_handler(self):
        return self.result


async def owner_over_oauth(mode, status):
    """The owner connects their AI host with their feria sign-in: a 401 on an owner tool starts
    OAuth (registration, sign-in, consent, PKCE), a 403 on a write asks for its scope."""
    owner, storage = ScriptedOwner(), MemoryStorage()
    auth = OAuthClientProvider(
        server_url=URL,
        client_metadata=OAuthClientMetadata(client_name="feria-ci", redirect_uris=[AnyUrl("http://127.0.0.1:33418/callback")]),
        storage=storage,
        redirect_handler=owner.redirect_handler,
        callback_handler=owner.callback_handler,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with Client(streamable_http_client(URL, http_client=http), mode=mode) as c:
            stats = await c.call_tool("get_business_stats", {})
            assert not stats.is_error and stats.structured_content["orders"] >= 1, stats
            assert owner.consents == [["catalog:read", "orders:read"]], owner.consents
            assert "get_business_stats" in await names(c)
            moved = await c.call_tool("update_order_status", {"order": os.environ["ORDER_NUMBER"], "status": status})
            assert not moved.is_error and moved.structured_content["status"] == status, moved
            assert "orders:write" in owner.consents[-1], owner.consents
            version = c.protocol_version
    assert storage.tokens.refresh_token, storage.tokens
    print(f"  oauth ({mode}): {version}, {len(owner.consents)} consents, scopes {storage.tokens.scope}")
    await owner.browser.aclose()
    return storage


async def refresh_rotates_and_replay_revokes(storage):
    """A refresh gives a new pair; the old refresh token presented again revokes the grant."""
    base = os.environ["FERIA_URL"]
    async with httpx2.AsyncClient(timeout=30) as http:
        form = {"grant_type": "refresh_token", "client_id": storage.client.client_id, "refresh_token": storage.tokens.refresh_token, "resource": URL}
        first = await http.post(base + "/token", data=form)
        assert first.status_code == 200 and first.json()["refresh_token"] != storage.tokens.refresh_token, first.text
        replay = await http.post(base + "/token", data=form)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant", replay.text
        revoked = await http.post(
            URL,
            headers={"Authorization": f"Bearer {first.json()['access_token']}", "Accept": "application/json, text/event-stream",
                     "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list",
                  "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}},
        )
        assert revoked.status_code == 401 and "invalid_token" in revoked.headers["www-authenticate"], revoked.text
    print("  oauth refresh: rotated, replay refused and the grant revoked")


async def stdio():
    env = dict(os.environ, DATABASE_URL=os.environ["FERIA_DATABASE"], FERIA_API_KEY=os.environ["READER_KEY"], LOG_LEVEL="warn")
    server = StdioServerParameters(command=os.environ["FERIA_BIN"], args=["mcp", "--store", "default"], env=env)
    async with Client(server) as c:
        tools = await names(c)
        assert "get_business_stats" in tools and "update_order_status" not in tools, tools
        stats = await c.call_tool("get_business_stats", {})
        assert not stats.is_error and stats.structured_content["orders"] >= 1, stats
        print(f"  stdio: {c.protocol_version}, {len(tools)} tools")


async def main():
    await anonymous_shopper("auto", "2026-07-28")
    await anonymous_shopper("legacy", "2025-11-25")
    await owner_agent()
    storage = await owner_over_oauth("auto", "PROCESSING")
    await refresh_rotates_and_replay_revokes(storage)
    await owner_over_oauth("legacy", "SHIPPED")
    await stdio()
    print("mcp client: all checks passed")


asyncio.run(main())
