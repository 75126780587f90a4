import { describe, expect, it } from 'vitest';
import { resumePath } from './client';

describe('resume path', () => {
  it('is the resume URL’s path, for this page’s own server, whatever host the URL names', () => {
    expect(resumePath('https://automate.example.com/v1/resume/r1.wait_1.1.ab12')).toBe('/v1/resume/r1.wait_1.1.ab12');
    expect(resumePath('/v1/resume/r1.wait_1.1.ab12')).toBe('/v1/resume/r1.wait_1.1.ab12');
    expect(resumePath('http://127.0.0.1:8080/v1/resume/r1.wait_1.1.ab12?x=1')).toBe('/v1/resume/r1.wait_1.1.ab12?x=1');
  });
});
