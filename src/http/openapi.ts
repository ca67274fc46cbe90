import { z } from "zod";
import { MAX_API_BODY_BYTES } from "./api-schemas.js";
import { API_OPERATIONS } from "./api-operations.js";

/** The REST API's OpenAPI 3.1 document, generated from its operations and their zod schemas. */

type JsonSchema = Record<string, unknown>;

/** Named schemas (`.meta({ id })`) go to the document's components; a reference points there. */
function schemaOf(
  schema: z.ZodType,
  io: "input" | "output",
  components: Record<string, JsonSchema>,
): JsonSchema {
  const generated = z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" });
  const relinked = JSON.parse(
    JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/'),
  ) as JsonSchema & { $defs?: Record<string, JsonSchema> };
  const { $defs, $schema: _schema, id, ...rest } = relinked;
  for (const [name, definition] of Object.entries($defs ?? {})) components[name] = definition;
  if (typeof id === "string") {
    components[id] = rest;
    return { $ref: `#/components/schemas/${id}` };
  }
  return rest;
}

/** The OpenAPI 3.1 document of the REST API, generated from the schemas above. */
export function openApiDocument(): Record<string, unknown> {
  const components: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of API_OPERATIONS) {
    const parameters: unknown[] = [];
    if (operation.pathId) {
      parameters.push({
        name: "id",
        in: "path",
        required: true,
        schema: { type: "string", example: "th_504e39edcb6cae76240c" },
      });
    }
    if (operation.idempotencyKey) {
      parameters.push({
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description:
          "A retried change with the same key is applied once: the same request again gets the first answer " +
          "(with the header `Idempotent-Replayed: true`); another request with the same key gets 422.",
        schema: { type: "string", pattern: "^[\\w.:-]{1,100}$" },
      });
    }
    if (operation.query) {
      const query = schemaOf(operation.query, "input", components) as {
        properties: Record<string, JsonSchema>;
      };
      for (const [name, schema] of Object.entries(query.properties)) {
        const { description, ...rest } = schema;
        parameters.push({
          name,
          in: "query",
          required: false,
          ...(description ? { description } : {}),
          schema: rest,
        });
      }
    }
    paths[operation.path] ??= {};
    paths[operation.path]![operation.method] = {
      summary: operation.summary,
      ...(operation.description ? { description: operation.description } : {}),
      ...(operation.authenticated ? {} : { security: [] }),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(operation.body
        ? {
            requestBody: {
              required: operation.body.required,
              content: {
                "application/json": { schema: schemaOf(operation.body.schema, "input", components) },
              },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(operation.responses).map(([status, response]) => [
          status,
          {
            description: response.description,
            content: { "application/json": { schema: schemaOf(response.schema, "output", components) } },
          },
        ]),
      ),
    };
  }
  paths["/api/v1/openapi.json"] = {
    get: {
      summary: "This document",
      security: [],
      responses: {
        200: { description: "The OpenAPI document of the REST API", content: { "application/json": {} } },
      },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "deploybot REST API",
      version: "1.0.0",
      description:
        "Read deploy threads, start one from words, and pause, resume, cancel or answer one. Every call needs " +
        "`Authorization: Bearer <token>`, a token from `DEPLOYBOT_API_TOKENS` (`name:token` pairs); without any " +
        "configured token the API answers 503. Changes are queued like webhooks and answered `202 Accepted`; " +
        `follow the thread with GET. JSON bodies are at most ${MAX_API_BODY_BYTES} bytes.`,
    },
    security: [{ bearer: [] }],
    paths,
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } }, schemas: components },
  };
}
