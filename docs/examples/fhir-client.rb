# A FHIR client in Ruby (standard library only): a token by OAuth client
# credentials, Patients found by name, and a Task read with its Patient.
# Prints each answer, one JSON document per line.
#   BASE=http://127.0.0.1:3000 API_KEY=… API_SECRET=… ruby fhir-client.rb
require "json"
require "net/http"

fhir = "#{ENV.fetch("BASE")}/fhir/R4"

def call(request, uri)
  response = Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https") do |http|
    http.request(request)
  end
  raise "#{uri}: #{response.code} #{response.body}" unless response.is_a?(Net::HTTPSuccess)
  JSON.parse(response.body)
end

uri = URI("#{fhir}/auth/token")
request = Net::HTTP::Post.new(uri)
request.basic_auth(ENV.fetch("API_KEY"), ENV.fetch("API_SECRET"))
request.set_form_data("grant_type" => "client_credentials",
                      "scope" => "system/Patient.rs system/Task.rs")
answer = call(request, uri)
token = answer["access_token"]
puts JSON.generate(answer.merge("access_token" => "…"))

[["Patient", { "name" => "test" }],
 ["Task", { "_id" => "201", "_include" => "Task:patient" }]].each do |type, query|
  uri = URI("#{fhir}/#{type}")
  uri.query = URI.encode_www_form(query)
  request = Net::HTTP::Get.new(uri)
  request["Authorization"] = "Bearer #{token}"
  request["Accept"] = "application/fhir+json"
  puts JSON.generate(call(request, uri))
end
