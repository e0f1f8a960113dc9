-- wrk script: MCP tools/call over Streamable HTTP in the stateless revision (2026-07-28), one
-- JSON-RPC request per HTTP request. TOOL picks the call (set by bench/mcp.sh):
--   get_products     the catalog's first page (answered from the node's answer cache)
--   create_checkout  a guest's UCP checkout of 2 products with buyer and address (a new
--                    session row each time), PRODUCT_IDS from the environment
local tool = os.getenv("TOOL") or "get_products"
local ids = {}
for id in string.gmatch(os.getenv("PRODUCT_IDS") or "", "[^,]+") do
  ids[#ids + 1] = id
end
local counter = 0
local meta = [["_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}]]
local headers = {
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json, text/event-stream",
  ["MCP-Protocol-Version"] = "2026-07-28",
  ["Mcp-Method"] = "tools/call",
  ["Mcp-Name"] = tool,
}

function request()
  counter = counter + 1
  local arguments
  if tool == "create_checkout" then
    local first = (counter * 2) % #ids
    arguments = string.format([[{"meta":{"ucp-agent":{"profile":"https://agent.example/.well-known/ucp"}},"checkout":{
"line_items":[{"item":{"id":"%s"},"quantity":1},{"item":{"id":"%s"},"quantity":2}],
"buyer":{"first_name":"Eva","email":"eva%d@bench.test"},
"fulfillment":{"methods":[{"type":"shipping","destinations":[{"street_address":"Av. Corrientes 1234","address_locality":"CABA","address_country":"AR"}]}]}}}]],
      ids[1 + first], ids[1 + (first + 1) % #ids], counter)
  else
    arguments = [[{"limit":10}]]
  end
  local body = string.format([[{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"%s","arguments":%s,%s}}]],
    counter, tool, arguments, meta)
  return wrk.format("POST", "/mcp", headers, body)
end

-- A tool error or JSON-RPC error is a failed call: counted so the run can report it.
local failures = 0
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"isError":true', 1, true) or string.find(body, '"error":{', 1, true) then
    failures = failures + 1
    if failures == 1 then
      io.stderr:write("first failed call: " .. status .. " " .. string.sub(body, 1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  io.write(string.format("failed calls: %d\n", failures))
end
