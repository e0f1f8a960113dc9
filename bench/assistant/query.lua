-- wrk script: POST /api/chatbot/query as visitors (each question opens a session), cycling
-- through shoppers' questions. Non-200 answers are counted by wrk.
local questions = {
  "¿tienen algo para un asado de 10 personas por menos de 60 mil?", "¿Tienen vacío?", "quiero entraña para la parrilla",
  "vino malbec", "carbón para el asado", "queso provoleta", "empanadas de carne", "¿hacen envíos a domicilio?",
  "cerveza negra", "dulce de leche", "¿tienen sushi?", "milanesas de pollo",
}
local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local q = questions[1 + counter % #questions]
  return wrk.format("POST", nil, headers, string.format('{"message":"%s"}', q))
end
