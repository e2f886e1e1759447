import { Body, Controller, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CHAT_ESTIMATE_TOKENS, DEFAULT_MODEL, TOKENS_USED_HEADER, answerChat } from '@tenant/example-shared';
import { queryParam } from '@tenant/core';
import { RequirePolicy, TenantCost } from '@tenant/nestjs';

/**
 * A token-metered chat route. Its policy (the model asked for) and its cost
 * (one request and a token budget, charged up front) are declared on the
 * route: the module's guard checks them for this handler however the path
 * was spelled. The tokens really used go out in `x-tokens-used`, and the
 * module settles them after the response (`actualCost` in app.module.ts).
 */
@Controller('chat')
export class ChatController {
  // The token is named with @Inject() so that the example also runs under tsx
  // (esbuild), which does not write the decorator metadata Nest otherwise reads.
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  @Post()
  @HttpCode(200)
  // queryParam: one value every parser agrees on, or 400 query_invalid (a repeated or nested ?model=)
  @RequirePolicy((request) => ({ models: queryParam(request, 'model') ?? DEFAULT_MODEL }))
  @TenantCost({ requests: 1, tokens: CHAT_ESTIMATE_TOKENS })
  async chat(@Query('model') model: unknown, @Body() body: { prompt?: unknown } | undefined, @Res({ passthrough: true }) res: unknown) {
    const answer = await answerChat(typeof model === 'string' ? model : DEFAULT_MODEL, body?.prompt);
    this.adapterHost.httpAdapter.setHeader(res, TOKENS_USED_HEADER, String(answer.usage.tokens));
    return answer;
  }
}
