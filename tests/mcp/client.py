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
"""

import asyncio
import json
import os

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

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
        assert json.loads(found.content[0].text) == found.structured_content
        listed = await c.call_tool("get_products", {"limit": 2, "page": 2})
        assert not listed.is_error and len(listed.structured_content["products"]) == 2, listed
        details = await c.call_tool("get_product_details", {"productId": product["id"]})
        assert details.structured_content["price"] == product["price"], details.structured_content
        status = await c.call_tool(
            "get_order_status", {"order": os.environ["ORDER_NUMBER"], "email": os.environ["GUEST_EMAIL"].upper()}
        )
        assert status.structured_content["status"] == "PENDING", status
        await guest_checkout(c, product)
        refused = await c.call_tool("get_business_stats", {})
        assert refused.is_error and "orders:read" in refused.content[0].text, refused
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
    await stdio()
    print("mcp client: all checks passed")


asyncio.run(main())
