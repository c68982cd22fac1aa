import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { parseDetokenizeRequest, parseTokenizeRequest } from './openai-request';
import { OpenAiService } from './openai.service';
import { ModelTokenizers } from './model-tokenizers';

/** `POST /tokenize` answer (vLLM's shape). */
export interface TokenizeResponse {
  count: number;
  max_model_len: number | null;
  tokens: number[];
  token_strs?: (string | null)[];
}

/**
 * vLLM-compatible `POST /tokenize` and `POST /detokenize`: the model's own tokenizer, in the API
 * process, without a job. A chat (`messages`) is rendered with the model's chat template first, so
 * `count` is what a chat completion's prompt costs.
 */
@Controller()
@UseGuards(ApiKeyGuard)
export class TokenizeController {
  constructor(
    @Inject(OpenAiService) private readonly openai: OpenAiService,
    @Inject(ModelTokenizers) private readonly tokenizers: ModelTokenizers,
  ) {}

  @Post('tokenize')
  @HttpCode(200)
  async tokenize(@Body() body: unknown): Promise<TokenizeResponse> {
    const req = parseTokenizeRequest(body);
    const model = this.openai.find(req.model);
    const { tokenizer, maxModelLen } = await this.tokenizers.forModel(model);
    const text = req.messages ? await this.openai.renderChat(model, req.messages) : (req.prompt as string);
    const tokens = tokenizer.encode(text, req.add_special_tokens);
    return {
      count: tokens.length,
      max_model_len: maxModelLen,
      tokens,
      ...(req.return_token_strs ? { token_strs: tokens.map((t) => tokenizer.piece(t) ?? null) } : {}),
    };
  }

  @Post('detokenize')
  @HttpCode(200)
  async detokenize(@Body() body: unknown): Promise<{ prompt: string }> {
    const req = parseDetokenizeRequest(body);
    const model = this.openai.find(req.model);
    const { tokenizer } = await this.tokenizers.forModel(model);
    return { prompt: tokenizer.decode(req.tokens, { skipSpecialTokens: false }) };
  }
}
