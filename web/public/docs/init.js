// /docs: the API's OpenAPI contract in Swagger UI, served from the package (no CDN, no
// inline script: the docs page's CSP allows neither).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
});
