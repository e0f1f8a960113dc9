-- wrk script: each request places a guest order of 3 lines (1, 2 and 1 units) with a coupon, as
-- a new guest (a unique email per request). Product ids come from the environment (PRODUCT_IDS,
-- comma-separated, set by bench/orders.sh); with more than 3, each order takes the next 3 of
-- them in turn, like shoppers buying across a catalog.
local ids = {}
for id in string.gmatch(os.getenv("PRODUCT_IDS") or "", "[^,]+") do
  ids[#ids + 1] = id
end
local counter = 0
local thread_tag = tostring(math.random(1, 1000000000))

function request()
  counter = counter + 1
  local first = (counter * 3) % #ids
  local body = string.format([[{"items":[{"productId":"%s","quantity":1},{"productId":"%s","quantity":2},{"productId":"%s","quantity":1}],
"couponCode":"BENCH10","customerData":{"name":"Cliente Bench","email":"b%s-%d@bench.test"},
"shippingAddress":{"street":"Av. Corrientes","number":"1234","neighborhood":"San Nicolás","city":"CABA"}}]],
    ids[1 + first], ids[1 + (first + 1) % #ids], ids[1 + (first + 2) % #ids], thread_tag, counter)
  return wrk.format("POST", "/api/sales", {["Content-Type"] = "application/json"}, body)
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  thread_tag = tostring(math.random(1, 1000000000))
end
