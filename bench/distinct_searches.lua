-- wrk script: every request is a different search (a word from the list and a random minPrice
-- below every bench price), so none is answered from the node's answer cache: this measures
-- the full search path (index, facets, product cache, JSON) for a long tail of queries.
local words = {"chorizo", "bife", "malbec", "queso", "jamon", "parrilla", "tierno", "premium", "empanadas", "salame"}

function init(args)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
end

function request()
  local word = words[math.random(#words)]
  local floor = string.format("%d.%02d", math.random(0, 999), math.random(0, 99))
  return wrk.format("GET", "/api/products/search?q=" .. word .. "&minPrice=" .. floor)
end
